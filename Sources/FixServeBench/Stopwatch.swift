import Dispatch
import Glibc

/// Median wall-clock time per call of a closure: each run repeats the call enough times to last
/// at least `minimumRunNanoseconds`, and the median over `runs` runs is reported.
struct Stopwatch {
    var runs: Int
    var minimumRunNanoseconds: UInt64

    /// The median nanoseconds per call of each body. Runs of the bodies alternate, so a change
    /// in machine load affects them alike and their ratios stay meaningful.
    func medianNanoseconds(_ bodies: [() -> Void]) -> [Double] {
        let repetitions = bodies.map(calibrate)
        var samples = [[Double]](repeating: [], count: bodies.count)
        for _ in 0..<runs {
            for (i, body) in bodies.enumerated() {
                samples[i].append(Double(time(repetitions[i], body)) / Double(repetitions[i]))
            }
        }
        return samples.map { $0.sorted()[$0.count / 2] }
    }

    /// The median wall-clock and process CPU nanoseconds per call of `body`. CPU time is the
    /// steadier figure on a shared machine: time spent preempted does not count.
    func medianWallAndCPUNanoseconds(_ body: () -> Void) -> (wall: Double, cpu: Double) {
        let repetitions = calibrate(body)
        var walls: [Double] = [], cpus: [Double] = []
        for _ in 0..<runs {
            let cpuStart = Self.processCPUNanoseconds()
            walls.append(Double(time(repetitions, body)) / Double(repetitions))
            cpus.append(Double(Self.processCPUNanoseconds() - cpuStart) / Double(repetitions))
        }
        return (walls.sorted()[runs / 2], cpus.sorted()[runs / 2])
    }

    private static func processCPUNanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// How many calls make one run last at least the minimum.
    private func calibrate(_ body: () -> Void) -> Int {
        body()  // warm caches and lazy state
        var repetitions = 1
        while true {
            let elapsed = time(repetitions, body)
            if elapsed >= minimumRunNanoseconds || repetitions >= 1 << 24 { return repetitions }
            repetitions *= elapsed == 0 ? 16 : max(2, Int(minimumRunNanoseconds / elapsed) + 1)
        }
    }

    private func time(_ repetitions: Int, _ body: () -> Void) -> UInt64 {
        let start = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<repetitions { body() }
        return DispatchTime.now().uptimeNanoseconds - start
    }
}
