import Datasets
import Dispatch
import Foundation
import ModelStore
import Numerics

/// One loaded model version as the service runs it: the BN-folded inference engine behind a
/// dynamic batcher, the input preprocessing, and the labels.
///
/// The engine is not thread-safe; the batcher runs one batch at a time, so it has one caller.
public final class ServedModel: @unchecked Sendable {
    public let manifest: ModelManifest
    public let preprocessor: InputPreprocessor
    public let batcher: DynamicBatcher<[Float], [Float]>
    public let parameterCount: Network.ParameterCount
    /// The head's coherence: the largest |cos| between two class vectors.
    public let coherence: Float
    /// The trained α (learned) or the fixed α; nil for the learned head.
    public let alpha: Float?
    /// Counters for the statistics extension.
    public let statistics = ModelStatistics()
    public var labels: [String] { manifest.labels }
    public var classes: Int { manifest.head.classes }
    /// One engine and its buffers per instance; the batcher never runs two batches on one.
    private let instances: [Instance]

    private final class Instance: @unchecked Sendable {
        let engine: InferenceEngine
        var input: [Float]
        var output: [Float]

        init(engine: InferenceEngine, rowSize: Int, classes: Int) {
            self.engine = engine
            input = [Float](repeating: 0, count: engine.maxBatchSize * rowSize)
            output = [Float](repeating: 0, count: engine.maxBatchSize * classes)
        }
    }

    /// Builds the network from a validated stored model and starts its batcher.
    ///
    /// - Parameters:
    ///   - settings: batching limits (from the model's config.json or the server's defaults).
    ///   - workers: threads one batch may use (`InferenceEngine.workers`).
    ///   - onBatch: metrics hook, called after every batch.
    public init(
        stored: StoredModel, settings: DynamicBatcher<[Float], [Float]>.Settings, workers: Int = 1,
        computeQueue: DispatchQueue, onBatch: @escaping @Sendable (DynamicBatcher<[Float], [Float]>.BatchReport) -> Void
    ) throws {
        let network = try stored.makeNetwork()
        let input = stored.manifest.input
        let rowSize = input.shape.reduce(1, *)
        self.instances = try (0..<settings.instances).map { _ in
            Instance(engine: try InferenceEngine(network: network, maxBatchSize: settings.maxBatchSize, workers: workers),
                     rowSize: rowSize, classes: stored.manifest.head.classes)
        }
        self.manifest = stored.manifest
        self.parameterCount = network.parameterCount
        self.coherence = network.head.coherence
        self.alpha = stored.manifest.head.kind == .learned ? nil
            : network.head.parameters.first { $0.name == "alpha" }?.value.data.first ?? stored.manifest.head.alpha
        self.preprocessor = InputPreprocessor(
            channels: input.shape[0], height: input.shape[1], width: input.shape[2],
            normalization: try Normalization(mean: input.mean, std: input.std), resize: input.resize)
        let name = stored.location.deletingLastPathComponent().lastPathComponent
        let owner = WeakBox<ServedModel>()
        let statistics = self.statistics
        self.batcher = DynamicBatcher(
            label: "\(name).\(stored.version ?? 0)", settings: settings, computeQueue: computeQueue,
            onBatch: { report in statistics.recordBatch(report); onBatch(report) }, compute: { rows, instance in
                guard let model = owner.value else { throw BatcherError.closed }
                return try model.logits(rows, on: instance)
            })
        owner.value = self
    }

    /// Logits for a batch of rows on one instance; runs on the compute queue.
    private func logits(_ rows: [[Float]], on index: Int) throws -> [[Float]] {
        let instance = instances[index]
        let rowSize = preprocessor.rowSize
        let classes = self.classes
        instance.input.withUnsafeMutableBufferPointer { buffer in
            for (i, row) in rows.enumerated() {
                row.withUnsafeBufferPointer { src in
                    (buffer.baseAddress! + i * rowSize).update(from: src.baseAddress!, count: rowSize)
                }
            }
        }
        try instance.input.withUnsafeBufferPointer { inBuffer in
            try instance.output.withUnsafeMutableBufferPointer { outBuffer in
                try instance.engine.logits(
                    for: UnsafeBufferPointer(rebasing: inBuffer[0..<rows.count * rowSize]), batchSize: rows.count,
                    into: UnsafeMutableBufferPointer(rebasing: outBuffer[0..<rows.count * classes]))
            }
        }
        return (0..<rows.count).map { Array(instance.output[$0 * classes..<($0 + 1) * classes]) }
    }

    /// Runs one request's rows through the batcher; `completion` gets the logits on the compute queue.
    ///
    /// The pending request keeps this version alive: a hot swap may drop the repository's last
    /// reference while the request waits, and its batch must still find the engine.
    public func infer(_ rows: [[Float]], completion: @escaping DynamicBatcher<[Float], [Float]>.Completion) {
        batcher.submit(rows) { result in
            withExtendedLifetime(self) { completion(result) }
        }
    }
}
