import ArgumentParser
import Foundation
import LinearAlgebra
import ModelStore
import Numerics

/// Forward-pass throughput of a stored model's inference engine at several batch sizes and
/// thread counts: FixServe's side of `scripts/bench-engine`, which runs onnxruntime on the same
/// model's ONNX export with the same settings, alternating with this.
struct EngineBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Images/s of the inference engine's forward pass (no decoding) per batch size and thread count.")

    @Option(help: "The model repository.") var models = "models"
    @Option(help: "Model name (highest version).") var model = "fashion-mnist"
    @Option(parsing: .upToNextOption, help: "Batch sizes.") var batches: [Int] = [1, 8, 64, 128]
    @Option(parsing: .upToNextOption, help: "Thread counts (engine workers; BLAS runs single-threaded).")
    var threads: [Int] = [1, 2]
    @Option(help: "Timed runs per setting; the median is reported.") var runs = 5
    @Option(help: "Least duration of one timed run, in milliseconds.") var runMilliseconds = 200

    func run() throws {
        BLAS.threadCount = 1
        let stored = try StoredModel.newest(model, in: models)
        let network = try stored.makeNetwork()
        let rowSize = stored.manifest.input.shape.reduce(1, *), classes = stored.manifest.head.classes
        var generator = SeededGenerator(seed: 7)
        print("# kernels: \(PackedKernels.usesAVX2 ? "avx2+fma" : "portable")")
        for threadCount in threads {
            for batch in batches {
                let engine = try InferenceEngine(network: network, maxBatchSize: batch, workers: threadCount)
                let input = (0..<(batch * rowSize)).map { _ in Float(generator.nextGaussian()) }
                var output = [Float](repeating: 0, count: batch * classes)
                let stopwatch = Stopwatch(runs: runs, minimumRunNanoseconds: UInt64(runMilliseconds) * 1_000_000)
                let (wall, cpu) = stopwatch.medianWallAndCPUNanoseconds {
                    input.withUnsafeBufferPointer { x in
                        output.withUnsafeMutableBufferPointer { try! engine.logits(for: x, batchSize: batch, into: $0) }
                    }
                }
                print(String(format: "fixserve model=%@ threads=%d batch=%d images_per_second=%.0f batch_us=%.1f cpu_us_per_image=%.1f",
                             model, threadCount, batch, Double(batch) / (wall / 1e9), wall / 1e3, cpu / 1e3 / Double(batch)))
            }
        }
    }
}
