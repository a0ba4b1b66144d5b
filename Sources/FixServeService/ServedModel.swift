import Datasets
import Dispatch
import Foundation
import ModelStore
import Numerics

/// One loaded model version as the service runs it: the BN-folded inference engine behind a
/// dynamic batcher, the input preprocessing, and the labels.
///
/// An engine is not thread-safe; each instance has its own, and the batcher runs one batch at a
/// time on an instance, so each engine has one caller.
public final class ServedModel: @unchecked Sendable {
    public let manifest: ModelManifest
    public let preprocessor: InputPreprocessor
    public let batcher: DynamicBatcher
    public let parameterCount: Network.ParameterCount
    /// The head's coherence: the largest |cos| between two class vectors.
    public let coherence: Float
    /// The trained α (learned) or the fixed α; nil for the learned head.
    public let alpha: Float?
    /// Counters for the statistics extension.
    public let statistics = ModelStatistics()
    public var labels: [String] { manifest.labels }
    /// Each label as a JSON string literal, quotes included: a prediction's answer copies them.
    let labelLiterals: [[UInt8]]
    public var classes: Int { manifest.head.classes }
    /// One engine per instance; the batcher never runs two batches on one, and owns their buffers.
    private let engines: [InferenceEngine]

    /// Builds the network from a validated stored model and starts its batcher.
    ///
    /// - Parameters:
    ///   - settings: batching limits (from the model's config.json or the server's defaults).
    ///   - workers: threads one batch may use (`InferenceEngine.workers`).
    ///   - onBatch: metrics hook, called after every batch.
    public init(
        stored: StoredModel, settings: DynamicBatcher.Settings, workers: Int = 1,
        computeQueue: DispatchQueue, onBatch: @escaping @Sendable (DynamicBatcher.BatchReport) -> Void
    ) throws {
        let network = try stored.makeNetwork()
        let input = stored.manifest.input
        let rowSize = input.shape.reduce(1, *)
        self.engines = try (0..<settings.instances).map { _ in
            try InferenceEngine(network: network, maxBatchSize: settings.maxBatchSize, workers: workers)
        }
        self.manifest = stored.manifest
        self.labelLiterals = stored.manifest.labels.map { Array(JSONString.literal($0).utf8) }
        self.parameterCount = network.parameterCount
        self.coherence = network.head.coherence
        self.alpha = stored.manifest.head.kind == .learned ? nil
            : network.head.parameters.first { $0.name == "alpha" }?.value.data.first ?? stored.manifest.head.alpha
        self.preprocessor = InputPreprocessor(
            channels: input.shape[0], height: input.shape[1], width: input.shape[2],
            normalization: try Normalization(mean: input.mean, std: input.std), resize: input.resize)
        let name = stored.location.deletingLastPathComponent().lastPathComponent
        let engines = self.engines, statistics = self.statistics
        self.batcher = DynamicBatcher(
            label: "\(name).\(stored.version ?? 0)", settings: settings, rowSize: rowSize,
            resultSize: stored.manifest.head.classes, computeQueue: computeQueue,
            onBatch: { report in statistics.recordBatch(report); onBatch(report) }, compute: { input, rows, output, instance in
                try engines[instance].logits(for: input, batchSize: rows, into: output)
            })
    }

    /// Runs one request of `rows` rows through the batcher: `write` fills them in the batch's
    /// input when the batch is taken; `completion` reads their logits from the batch's output.
    ///
    /// The pending request keeps this version alive: a hot swap may drop the repository's last
    /// reference while the request waits, and its batch must still find the engine.
    public func infer(rows: Int, placement: DynamicBatcher.Placement = .computeQueue,
                      write: @escaping DynamicBatcher.RowWriter, completion: @escaping DynamicBatcher.Completion) {
        batcher.submit(rows: rows, placement: placement, write: write) { result in
            withExtendedLifetime(self) { completion(result) }
        }
    }
}
