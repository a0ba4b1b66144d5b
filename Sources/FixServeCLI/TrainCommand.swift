import ArgumentParser
import FixServeService
import Foundation
import LinearAlgebra
import Numerics

/// `fixserve train`: trains a backbone with a head and stores it as a new model version.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a model and store it in the repository as a new version.")

    @Option(help: "Name to store the model under.") var model: String
    @Option(help: "fashion-mnist, fashion-mnist-pairs (100 classes of two images side by side), or folder:<path> (image-folder tree, optionally with train/ and test/).")
    var dataset = "fashion-mnist"
    @Option(help: "Backbone preset: \(BackbonePreset.allCases.map(\.rawValue).joined(separator: ", ")).")
    var backbone = "cnn-small"
    @Option(help: "The backbone's feature width N (cnn-small, cnn-narrow, mlp); default the preset's.") var features: Int?
    @Option(help: "A learned linear layer from the N features to this many before the head (lets a fixed head take C > N classes).") var projection: Int?
    @Option(help: "Head: learned, orthonormal or hadamard.") var head = "hadamard"
    @Option(help: "α's initial (learned) or fixed value; default 10 orthonormal, 1 Hadamard.") var alpha: Float?
    @Flag(help: "Keep α fixed instead of learning it.") var fixedAlpha = false
    @Flag(help: "Hadamard: keep the all-ones row (default skips it).") var keepAllOnesRow = false
    @Option var epochs = 10
    @Option var batchSize = 128
    @Option var learningRate: Float = 0.1
    @Option var momentum: Float = 0.9
    @Flag(inversion: .prefixedNo, help: "Nesterov momentum.") var nesterov = true
    @Option var weightDecay: Float = 5e-4
    @Option(help: "cosine, step or constant.") var schedule = "cosine"
    @Option var warmupEpochs = 0
    @Option var seed: UInt64 = 1
    @Option(help: "Share of the training set held out for validation.") var validationFraction = 0.1
    @Flag(help: "Random crop (padding 2) and horizontal flips.") var augment = false
    @Option(help: "Use at most this many training images.") var trainingLimit: Int?
    @Option(help: "The model repository.") var models = Environment.string("models", "./models")
    @Option(help: "Folder data sets are resolved under this directory.") var dataRoot = "."
    @Option(help: "Threads to train on (results are deterministic for a given count).") var threads = ProcessInfo.processInfo.activeProcessorCount
    @Option(help: "Checkpoint file, written after every epoch: when it exists, the run continues from it (run the same command again after an interruption). Removed once the model is stored.")
    var checkpoint: String?
    @Option(help: "With --checkpoint, also checkpoint after every N batches.") var checkpointEveryBatches: Int?

    func validate() throws {
        if let checkpointEveryBatches, checkpointEveryBatches < 1 {
            throw ValidationError("--checkpoint-every-batches must be positive, got \(checkpointEveryBatches)")
        }
    }

    func run() throws {
        guard let kind = HeadKind(rawValue: head) else { throw ValidationError("--head must be learned, orthonormal or hadamard") }
        var request = TrainingRequest(model: model)
        request.dataset = dataset
        request.backbone = backbone
        request.head = kind
        request.alpha = alpha
        request.alphaLearned = !fixedAlpha
        request.skipAllOnesRow = !keepAllOnesRow
        request.epochs = epochs
        request.batchSize = batchSize
        request.learningRate = learningRate
        request.momentum = momentum
        request.nesterov = nesterov
        request.weightDecay = weightDecay
        request.schedule = schedule
        request.warmupEpochs = warmupEpochs
        request.seed = seed
        request.features = features
        request.projection = projection
        request.validationFraction = validationFraction
        request.augment = augment
        request.trainingLimit = trainingLimit
        // The layers split their work over their own threads; BLAS threads would only spin beside them.
        BLAS.threadCount = 1

        let bar = ProgressBar()
        let trainer = ModelTrainer(modelsDirectory: URL(fileURLWithPath: models), dataRoot: URL(fileURLWithPath: dataRoot))
        let command = (["fixserve"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
        let checkpointing = checkpoint.map { path in
            ModelTrainer.Checkpointing(
                file: TrainingCheckpointFile(url: URL(fileURLWithPath: path)), everyBatches: checkpointEveryBatches,
                resumed: { epoch, batch in print(batch == 0 ? "resumed from epoch \(epoch)" : "resumed from epoch \(epoch), batch \(batch)") })
        }
        let result = try trainer.train(request, command: command, report: { bar.show($0) }, epochDone: { epoch in
            bar.finishLine(String(
                format: "epoch %d  loss %.4f  train %.2f%%  val %@  test %@  α %@  %.1fs  %.0f img/s", epoch.epoch,
                epoch.trainLoss, epoch.trainAccuracy * 100, percent(epoch.validationAccuracy), percent(epoch.testAccuracy),
                epoch.alpha.map { String(format: "%.3f", $0) } ?? "-", epoch.seconds, bar.samplesPerSecond))
        }, threads: threads, checkpointing: checkpointing)
        checkpointing?.file.remove()
        let folder = result.stored.location
        try TrainingHistoryFiles.write(result.outcome.history, label: "\(model) (\(head))", to: folder)
        print("stored \(result.reference) in \(folder.path) after \(String(format: "%.1f", result.outcome.seconds)) s")
    }
}

private func percent(_ value: Double?) -> String {
    value.map { String(format: "%.2f%%", $0 * 100) } ?? "-"
}
