import ArgumentParser
import Foundation
import LinearAlgebra
import Numerics

/// Forward pass of the Hadamard head (normalisation, fast Walsh–Hadamard transform, α, bias)
/// against the dense heads (the learned head and the orthonormal head, both one sgemm), on one
/// BLAS thread.
struct HeadsBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "heads",
        abstract: "Time the classification heads' inference forward pass at several (N, C) and batch sizes.")

    @Option(help: "Timed runs per measurement; the median is reported.")
    var runs = 11

    @Option(help: "Minimum length of one timed run, in milliseconds.")
    var runMilliseconds = 20

    @Option(parsing: .upToNextOption, help: "Batch sizes.")
    var batches: [Int] = [1, 64]

    @Option(parsing: .upToNextOption, help: "Sizes as N:C pairs.")
    var sizes: [String] = ["128:10", "512:100", "2048:1000", "4096:4096"]

    func run() throws {
        let stopwatch = Stopwatch(runs: max(1, runs), minimumRunNanoseconds: UInt64(max(1, runMilliseconds)) * 1_000_000)
        print("# heads forward, median of \(stopwatch.runs) runs of ≥ \(runMilliseconds) ms, 1 BLAS thread")
        print("| N | C | B | learned (sgemm) µs | orthonormal (sgemm) µs | Hadamard (FWHT) µs | vs learned | vs orthonormal | learned bytes | fixed bytes |")
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for size in sizes {
            let parts = size.split(separator: ":").compactMap { Int($0) }
            guard parts.count == 2 else { throw ValidationError("size '\(size)' is not N:C") }
            let (n, c) = (parts[0], parts[1])
            // Q's QR factorisation may use every core; the timing uses one.
            BLAS.threadCount = ProcessInfo.processInfo.activeProcessorCount
            // The all-ones row is skipped whenever N′ has a spare row (not at C = N = N′).
            let skip = c < FastWalshHadamard.order(atLeast: n)
            let heads = try [HeadKind.learned, .orthonormal, .hadamard].map {
                try makeHead(HeadSpec(kind: $0, features: n, classes: c, seed: 1, skipAllOnesRow: skip))
            }
            BLAS.threadCount = 1
            var generator = SeededGenerator(seed: 2)
            for batch in batches {
                let input = Tensor(shape: [batch, n], data: (0..<(batch * n)).map { _ in Float(generator.nextGaussian()) })
                let times = stopwatch.medianNanoseconds(heads.map { head in { _ = head.forward(input, training: false) } })
                let (learned, orthonormal, hadamard) = (times[0], times[1], times[2])
                let row: [String] = [
                    "\(n)", "\(c)", "\(batch)", format(learned / 1000), format(orthonormal / 1000), format(hadamard / 1000),
                    String(format: "%.0f×", learned / hadamard), String(format: "%.0f×", orthonormal / hadamard),
                    "\(heads[0].spec.storedHeadBytes)", "\(heads[2].spec.storedHeadBytes)",
                ]
                print("| " + row.joined(separator: " | ") + " |")
            }
        }
    }

    private func format(_ microseconds: Double) -> String {
        microseconds < 10 ? String(format: "%.2f", microseconds) : String(format: "%.1f", microseconds)
    }
}
