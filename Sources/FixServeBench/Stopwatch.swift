import Dispatch

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
