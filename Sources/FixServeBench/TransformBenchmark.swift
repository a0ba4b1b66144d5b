import ArgumentParser
import Numerics

/// The bare in-place fast Walsh–Hadamard transform, one row at a time.
struct TransformBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fwht", abstract: "Time the in-place fast Walsh–Hadamard transform of one row.")

    @Option(help: "Timed runs per measurement; the median is reported.")
    var runs = 11

    @Option(help: "Minimum length of one timed run, in milliseconds.")
    var runMilliseconds = 20

    @Option(parsing: .upToNextOption, help: "Transform lengths (powers of two).")
    var orders: [Int] = [128, 512, 2048, 4096]

    func validate() throws {
        guard orders.allSatisfy({ $0 > 0 && $0 & ($0 - 1) == 0 }) else { throw ValidationError("lengths must be powers of two") }
    }

    func run() {
        let stopwatch = Stopwatch(runs: max(1, runs), minimumRunNanoseconds: UInt64(max(1, runMilliseconds)) * 1_000_000)
        print("| N′ | FWHT ns | ns per element and stage |")
        print("|---:|---:|---:|")
        for order in orders {
            let buffer = UnsafeMutablePointer<Float>.allocate(capacity: order)
            defer { buffer.deallocate() }
            // Zeros: repeated transforms of other data grow to ±inf and NaN, which slow some
            // x86 cores down; for normal numbers and zeros an addition takes the same time.
            buffer.update(repeating: 0, count: order)
            let time = stopwatch.medianNanoseconds([{ FastWalshHadamard.transform(buffer, count: order) }])[0]
            let stages = Double(order.trailingZeroBitCount)
            print("| \(order) | \(Int(time.rounded())) | \((time / (Double(order) * stages) * 1000).rounded() / 1000) |")
        }
    }
}
