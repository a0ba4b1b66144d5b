import Dispatch
import Foundation
import ModelStore

extension ServedModel {
    /// How the repository turns a stored version into a served one: batching from the model's
    /// config.json when it has one, else the server's defaults; every batch recorded in `metrics`.
    static func loader(
        defaults: DynamicBatcher.Settings, workers: Int, computeQueue: DispatchQueue, metrics: ServiceMetrics
    ) -> @Sendable (StoredModel) throws -> ServedModel {
        { stored in
            let modelDirectory = stored.location.deletingLastPathComponent()
            let name = modelDirectory.lastPathComponent
            let version = stored.version ?? 0
            var settings = defaults
            if FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent(ModelConfig.fileName).path) {
                let config = try ModelConfig.load(fromModelDirectory: modelDirectory)
                settings = .init(maxBatchSize: config.maxBatchSize, maxQueueDelayMicroseconds: config.maxQueueDelayMicroseconds,
                                 maxQueueSize: config.maxQueueSize, instances: defaults.instances,
                                 loopBudgetSeconds: defaults.loopBudgetSeconds)
            }
            let batches = metrics.batches(model: name, version: version)
            return try ServedModel(stored: stored, settings: settings, workers: workers, computeQueue: computeQueue) { report in
                batches.record(report)
            }
        }
    }
}
