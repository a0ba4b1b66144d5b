import Datasets
import Foundation
import ImageCodec
import ModelStore
import Numerics

/// Trains a model for a request and stores it as a new version in the repository: what the
/// trainer queue runs for each job and what `fixserve train` runs in the foreground.
public struct ModelTrainer {
    public let modelsDirectory: URL
    public let dataRoot: URL?

    public init(modelsDirectory: URL, dataRoot: URL?) {
        self.modelsDirectory = modelsDirectory
        self.dataRoot = dataRoot
    }

    /// What a finished training produced.
    public struct Result {
        /// "name/version" of the stored model.
        public var reference: String
        public var stored: StoredModel
        public var outcome: TrainingRun.Outcome
    }

    /// Where a run keeps its checkpoint and how often it writes it.
    public struct Checkpointing {
        public var file: TrainingCheckpointFile
        /// Also checkpoint after every this many batches; nil: at the end of each epoch only.
        public var everyBatches: Int?
        /// Told where the run continues when it starts from the file's checkpoint.
        public var resumed: (_ epoch: Int, _ batch: Int) -> Void

        public init(file: TrainingCheckpointFile, everyBatches: Int? = nil, resumed: @escaping (_ epoch: Int, _ batch: Int) -> Void = { _, _ in }) {
            self.file = file
            self.everyBatches = everyBatches
            self.resumed = resumed
        }
    }

    /// Loads the data, trains, and saves the model atomically.
    ///
    /// - Parameters:
    ///   - command: how the run was started, recorded in the model's provenance.
    ///   - threads: the threads training shares its work among; the result is deterministic for
    ///     a given count.
    ///   - checkpointing: when given, the run continues from the file's checkpoint if there is
    ///     one and writes its checkpoints there; the caller removes the file when the job ends.
    /// - Throws: `ServiceError`/`DatasetError`/`NumericsError` for bad requests or data,
    ///   `TrainingError` when training fails, `TrainingStopped` when asked to stop,
    ///   `TrainingCheckpointError` for a checkpoint that cannot be resumed from,
    ///   `AtomicFile.Failure` when a checkpoint cannot be written.
    public func train(
        _ request: TrainingRequest, command: String,
        report: @escaping (TrainingJob.Progress) -> Void = { _ in },
        shouldStop: @escaping () -> Bool = { false },
        epochDone: (TrainingRun.Epoch) -> Void = { _ in },
        threads: Int = 1,
        checkpointing: Checkpointing? = nil
    ) throws -> Result {
        try request.validate()
        // A damaged checkpoint fails the job before any data is loaded.
        let resume = try checkpointing.flatMap { $0.file.exists ? try $0.file.read() : nil }
        let data = try TrainingData.load(
            request.dataset, dataRoot: dataRoot, validationFraction: request.validationFraction,
            trainingLimit: request.trainingLimit, seed: request.seed)
        let outcome = try TrainingRun(request: request, data: data, threads: threads).run(
            report: report, shouldStop: shouldStop, epochDone: epochDone, resume: resume,
            resumed: { epoch, batch in checkpointing?.resumed(epoch, batch) }, checkpointEveryBatches: checkpointing?.everyBatches,
            checkpoint: { checkpoint in try checkpointing?.file.write(checkpoint) })
        if outcome.stopped { throw TrainingStopped() }
        let network = outcome.network
        let last = outcome.history.last
        var metrics: [String: Double] = ["train_seconds": outcome.seconds, "epochs": Double(outcome.history.count)]
        if let last {
            metrics["train_loss"] = last.trainLoss
            metrics["train_accuracy"] = last.trainAccuracy
            if let v = last.validationAccuracy { metrics["validation_accuracy"] = v }
            if let t = last.testAccuracy { metrics["test_accuracy"] = t }
        }
        var head = network.head.spec
        if let alpha = network.head.parameters.first(where: { $0.name == "alpha" })?.value.data.first {
            head.alpha = alpha  // the trained value, for readers of the manifest; the tensor is authoritative
        }
        let manifest = ModelManifest(
            input: ModelInput(
                shape: outcome.inputShape, colorMode: outcome.inputShape[0] == 1 ? .gray : .rgb, resize: .stretch,
                mean: outcome.normalization.mean, std: outcome.normalization.std),
            backbone: network.specs, head: head, labels: outcome.classNames,
            provenance: ModelProvenance(
                dataset: request.dataset, command: command, seed: request.seed, metrics: metrics,
                created: ISO8601DateFormatter().string(from: Date())))
        let stored = try StoredModel.save(
            manifest: manifest, tensors: StoredModel.tensors(of: network),
            into: modelsDirectory.appendingPathComponent(request.model))
        return Result(reference: "\(request.model)/\(stored.version ?? 0)", stored: stored, outcome: outcome)
    }
}

/// The run was asked to stop before it finished; nothing was stored.
public struct TrainingStopped: Error, CustomStringConvertible {
    public var description: String { "training was stopped before it finished; no model was stored" }
}
