import ArgumentParser
import Datasets
import FixServeService
import Foundation
import ImageCodec
import LinearAlgebra
import ModelStore
import Numerics

/// Offline throughput and latency of a stored model: the baseline the served figures are
/// compared with (`scripts/bench-serving`).
struct OfflineInferenceBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offline",
        abstract: "Images/s of a stored model without HTTP: decode + preprocess + batched forward.")

    @Option(help: "The model repository.") var models = "models"
    @Option(help: "Model name (highest version).") var model = "fashion-mnist"
    @Option(help: "An encoded PNG or JPEG image.") var image: String
    @Option(help: "Batch size of the batched pass.") var batch = 64
    @Option(help: "Threads of the batched pass (engine workers; BLAS itself runs single-threaded).")
    var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Timed runs; the median is reported.") var runs = 7

    func run() throws {
        BLAS.threadCount = 1
        let stored = try StoredModel.newest(model, in: models)
        let network = try stored.makeNetwork()
        let engine = try InferenceEngine(network: network, maxBatchSize: batch, workers: threads)
        let single = try InferenceEngine(network: network, maxBatchSize: 1)
        let input = stored.manifest.input
        let preprocessor = InputPreprocessor(
            channels: input.shape[0], height: input.shape[1], width: input.shape[2],
            normalization: try Normalization(mean: input.mean, std: input.std), resize: input.resize)
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: image)))
        let rowSize = input.shape.reduce(1, *)
        let classes = stored.manifest.head.classes
        var batchInput = [Float](repeating: 0, count: batch * rowSize)
        var batchOutput = [Float](repeating: 0, count: batch * classes)
        var singleOutput = [Float](repeating: 0, count: classes)

        // One image end to end (decode, preprocess, forward at batch 1): what batch-1 serving adds HTTP to.
        let stopwatch = Stopwatch(runs: runs, minimumRunNanoseconds: 200_000_000)
        let singleNanoseconds = stopwatch.medianNanoseconds([{
            let row = try! preprocessor.row(fromEncodedImage: bytes)
            try! row.withUnsafeBufferPointer { input in
                try singleOutput.withUnsafeMutableBufferPointer { try single.logits(for: input, batchSize: 1, into: $0) }
            }
        }])[0]
        // A full batch: decode and preprocess every image straight into its row, over as many
        // threads as the forward pass gets (as a server decodes on every core), then one
        // batched forward pass. Its process CPU per image is what a served image is held to.
        let batchTimes = stopwatch.medianWallAndCPUNanoseconds {
            batchInput.withUnsafeMutableBufferPointer { rows in
                let rows = UncheckedSendable(rows)
                DispatchQueue.concurrentPerform(iterations: threads) { worker in
                    for i in stride(from: worker, to: batch, by: threads) {
                        try! preprocessor.write(encodedImage: bytes,
                                                into: UnsafeMutableBufferPointer(rebasing: rows.value[i * rowSize..<(i + 1) * rowSize]))
                    }
                }
            }
            try! batchInput.withUnsafeBufferPointer { input in
                try batchOutput.withUnsafeMutableBufferPointer { try engine.logits(for: input, batchSize: batch, into: $0) }
            }
        }
        let batchNanoseconds = batchTimes.wall
        let forwardNanoseconds = stopwatch.medianNanoseconds([{
            try! batchInput.withUnsafeBufferPointer { input in
                try batchOutput.withUnsafeMutableBufferPointer { try engine.logits(for: input, batchSize: batch, into: $0) }
            }
        }])[0]
        print(String(format: "single_image_us %.1f", singleNanoseconds / 1e3))
        print(String(format: "batch_images_per_second %.0f", Double(batch) / (batchNanoseconds / 1e9)))
        print(String(format: "forward_only_images_per_second %.0f", Double(batch) / (forwardNanoseconds / 1e9)))
        print(String(format: "batch_cpu_us_per_image %.1f", batchTimes.cpu / Double(batch) / 1e3))
    }
}

/// Lets the workers of `concurrentPerform` write disjoint rows of one buffer.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
