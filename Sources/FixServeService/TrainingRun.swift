import Datasets
import Dispatch
import Foundation
import LinearAlgebra
import Numerics

/// One training run: builds the network, runs SGD over the epochs, evaluates each epoch, and
/// returns the trained network with its history.
///
/// Deterministic for a given request (seed) and thread count.
public struct TrainingRun {
    /// The numbers of one epoch.
    public struct Epoch: Codable, Sendable, Equatable {
        public var epoch: Int
        public var learningRate: Float
        public var trainLoss: Double
        public var trainAccuracy: Double
        public var validationAccuracy: Double?
        public var testAccuracy: Double?
        public var alpha: Float?
        public var seconds: Double
    }

    /// What a finished run produced.
    public struct Outcome {
        public var network: Network
        public var normalization: Normalization
        public var classNames: [String]
        public var inputShape: [Int]
        public var history: [Epoch]
        public var seconds: Double
        /// Set when the run was asked to stop before its last epoch.
        public var stopped: Bool
    }

    public let request: TrainingRequest
    public let data: TrainingData
    /// The threads a step's layers and each epoch's evaluation share their work among.
    public let threads: Int

    /// Call `run` on the thread whose scheduling priority training should have: the worker
    /// threads it starts inherit it.
    public init(request: TrainingRequest, data: TrainingData, threads: Int = 1) {
        self.request = request
        self.data = data
        self.threads = max(1, threads)
    }

    /// The head a request asks for, with each head's default α when none is given: 10 for the
    /// orthonormal head (its logits lie in [−α, α]) and 1 for the Hadamard head (its ±1 rows have
    /// norm √N, so its logits already span ±√N).
    public static func headSpec(for request: TrainingRequest, features: Int, classes: Int) -> HeadSpec {
        let alpha = request.alpha ?? (request.head == .hadamard ? 1 : 10)
        return HeadSpec(
            kind: request.head, features: features, classes: classes, alpha: alpha,
            alphaLearned: request.alphaLearned, bias: true, seed: request.seed, skipAllOnesRow: request.skipAllOnesRow)
    }

    /// Trains, from the start or from a checkpoint.
    ///
    /// - Parameters:
    ///   - report: called about twice a second and after each epoch.
    ///   - shouldStop: polled between batches; when true the run ends after the current batch.
    ///   - resume: a checkpoint of an earlier run of the same request to continue from; the run
    ///     then ends with the weights an uninterrupted run would have, bit for bit.
    ///   - resumed: told the epoch and batch the run continues at, once `resume` is restored.
    ///   - checkpointEveryBatches: also checkpoint after every this many batches of an epoch;
    ///     nil checkpoints at the end of each epoch only.
    ///   - checkpoint: given each checkpoint as it is taken; an error it throws ends the run.
    /// - Throws: `NumericsError` for an impossible network (e.g. C > N with a fixed head),
    ///   `TrainingError.diverged` when the loss stops being finite, `TrainingCheckpointError`
    ///   for a checkpoint that does not belong to this request, and what `checkpoint` throws.
    public func run(
        report: (TrainingJob.Progress) -> Void = { _ in },
        shouldStop: () -> Bool = { false },
        epochDone: (Epoch) -> Void = { _ in },
        resume: TrainingCheckpoint? = nil,
        resumed: (_ epoch: Int, _ batch: Int) -> Void = { _, _ in },
        checkpointEveryBatches: Int? = nil,
        checkpoint: (TrainingCheckpoint) throws -> Void = { _ in }
    ) throws -> Outcome {
        guard let preset = BackbonePreset(rawValue: request.backbone) else {
            throw ServiceError.badRequest("unknown backbone \(request.backbone)")
        }
        let train = data.training
        let inputShape = [train.channels, train.height, train.width]
        var (layers, features) = preset.layers(
            channels: train.channels, height: train.height, width: train.width, features: request.features)
        if let projection = request.projection {
            layers.append(.linear(inFeatures: features, outFeatures: projection, bias: true))
            features = projection
        }
        let head = try makeHead(Self.headSpec(for: request, features: features, classes: train.classCount))
        let network = try Network(backbone: layers, inputShape: inputShape, head: head, seed: request.seed)
        network.workers = WorkerPool(count: threads)
        let normalization = Normalization(computedOver: train)
        let augmentation = request.augment ? try Augmentation(cropPadding: 2, horizontalFlip: true) : .none
        var batches = try BatchIterator(
            dataset: train, batchSize: request.batchSize, normalization: normalization,
            augmentation: augmentation, shuffle: true, dropLast: false, seed: request.seed)
        let stepsPerEpoch = batches.batchCount
        let totalSteps = stepsPerEpoch * request.epochs
        let schedule = LearningRateSchedule(
            base: request.learningRate, warmup: request.warmupEpochs * stepsPerEpoch,
            decay: request.schedule == "cosine" ? .cosine(total: totalSteps, minimum: 0)
                : request.schedule == "step"
                    ? .step(milestones: [totalSteps / 2, totalSteps * 3 / 4], gamma: 0.1) : .constant)
        let sgd = try SGD(learningRate: request.learningRate, momentum: request.momentum,
                          nesterov: request.nesterov, weightDecay: request.weightDecay)
        let parameters = network.parameters

        var started = DispatchTime.now()
        var lastReport = started
        var history: [Epoch] = []
        var stopped = false
        var step = 0
        var firstEpoch = 0
        if let resume {
            try resume.check(matches: request, trainingCount: train.count, stepsPerEpoch: stepsPerEpoch)
            do {
                try network.load(namedTensors: resume.tensors)
                try sgd.restoreVelocities(resume.velocities, of: parameters)
                try network.restoreDropoutGenerators(resume.dropoutGenerators.map { try SeededGenerator(state: $0) })
            } catch {
                throw TrainingCheckpointError.mismatch("its state does not fit the network: \(error)")
            }
            history = resume.history
            step = resume.step
            firstEpoch = resume.epoch
            resumed(resume.epoch, resume.batch)
            // Rates and the ETA count the time before the interruption too.
            let before = UInt64(min(max(0, resume.elapsedSeconds) * 1e9, Double(started.uptimeNanoseconds)))
            started = DispatchTime(uptimeNanoseconds: started.uptimeNanoseconds - before)
        }
        epochs: for epoch in firstEpoch..<request.epochs {
            let epochStart = DispatchTime.now()
            var lossSum = 0.0, correct = 0.0, seen = 0, batchIndex = 0
            if let resume, epoch == resume.epoch, resume.batch > 0 {
                try batches.restore(resume.batches)
                (lossSum, correct, seen, batchIndex) = (resume.lossSum, resume.correct, resume.seen, resume.batch)
            } else {
                batches.reset(epoch: epoch)
            }
            func snapshot(epoch: Int, batch: Int) -> TrainingCheckpoint {
                TrainingCheckpoint(
                    request: request, epoch: epoch, batch: batch, step: step, lossSum: lossSum, correct: correct, seen: seen,
                    history: history, elapsedSeconds: Self.seconds(since: started), batches: batches.cursor,
                    dropoutGenerators: network.dropoutGenerators.map(\.state),
                    tensors: Dictionary(network.namedTensors(), uniquingKeysWith: { first, _ in first }),
                    velocities: sgd.velocities(of: parameters))
            }
            while let (input, labels) = batches.next() {
                if shouldStop() { stopped = true; break epochs }
                sgd.learningRate = schedule.value(at: step)
                network.zeroGradients()
                let logits = try network.forward(input, training: true)
                let (loss, gradient) = try SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
                guard loss.isFinite else { throw TrainingError.diverged(epoch: epoch + 1, step: step) }
                _ = network.backward(gradient)
                sgd.step(parameters)
                lossSum += Double(loss) * Double(labels.count)
                correct += Double(try SoftmaxCrossEntropy.accuracy(logits: logits, labels: labels)) * Double(labels.count)
                seen += labels.count
                step += 1
                batchIndex += 1
                let now = DispatchTime.now()
                if now.uptimeNanoseconds - lastReport.uptimeNanoseconds > 500_000_000 {
                    lastReport = now
                    report(progress(epoch: epoch, seen: seen, loss: lossSum, correct: correct, step: step,
                                    totalSteps: totalSteps, started: started, test: history.last?.testAccuracy))
                }
                // The epoch's last batch is covered by the end-of-epoch checkpoint below.
                if let every = checkpointEveryBatches, every > 0, batchIndex % every == 0, batchIndex < stepsPerEpoch {
                    try checkpoint(snapshot(epoch: epoch, batch: batchIndex))
                }
            }
            let engine = try InferenceEngine(network: network, maxBatchSize: 256, workers: threads)
            let record = Epoch(
                epoch: epoch + 1, learningRate: sgd.learningRate, trainLoss: lossSum / Double(max(seen, 1)),
                trainAccuracy: correct / Double(max(seen, 1)),
                validationAccuracy: data.validation.count > 0 ? try Self.accuracy(of: engine, on: data.validation, normalization: normalization) : nil,
                testAccuracy: try data.test.map { try Self.accuracy(of: engine, on: $0, normalization: normalization) },
                alpha: network.head.parameters.first { $0.name == "alpha" }?.value.data.first ?? (request.head == .learned ? nil : head.spec.alpha),
                seconds: Self.seconds(since: epochStart))
            history.append(record)
            epochDone(record)
            report(progress(epoch: epoch + 1, seen: 0, loss: lossSum, correct: correct, step: step,
                            totalSteps: totalSteps, started: started, test: record.testAccuracy, endOfEpoch: record))
            try checkpoint(snapshot(epoch: epoch + 1, batch: 0))
        }
        return Outcome(
            network: network, normalization: normalization, classNames: train.classNames, inputShape: inputShape,
            history: history, seconds: Self.seconds(since: started), stopped: stopped)
    }

    /// Top-1 accuracy of an engine over a whole image set, in batches.
    public static func accuracy(of engine: InferenceEngine, on set: LabeledImageSet, normalization: Normalization) throws -> Double {
        guard set.count > 0 else { return 0 }
        var iterator = try BatchIterator(dataset: set, batchSize: engine.maxBatchSize, normalization: normalization,
                                         shuffle: false, seed: 0)
        var correct = 0
        while let (input, labels) = iterator.next() {
            let predictions = SoftmaxCrossEntropy.predictions(logits: try engine.logits(for: input))
            correct += zip(predictions, labels).filter { $0 == $1 }.count
        }
        return Double(correct) / Double(set.count)
    }

    private func progress(
        epoch: Int, seen: Int, loss: Double, correct: Double, step: Int, totalSteps: Int,
        started: DispatchTime, test: Double?, endOfEpoch: Epoch? = nil
    ) -> TrainingJob.Progress {
        let elapsed = Self.seconds(since: started)
        let samplesDone = Double(step) * Double(request.batchSize)
        let rate = elapsed > 0 ? samplesDone / elapsed : 0
        let remaining = Double(totalSteps - step) * Double(request.batchSize)
        return TrainingJob.Progress(
            epoch: endOfEpoch?.epoch ?? epoch + 1, epochs: request.epochs, samples: endOfEpoch == nil ? seen : data.training.count,
            samplesPerEpoch: data.training.count,
            trainLoss: endOfEpoch?.trainLoss ?? loss / Double(max(seen, 1)),
            trainAccuracy: endOfEpoch?.trainAccuracy ?? correct / Double(max(seen, 1)),
            testAccuracy: test, samplesPerSecond: rate, etaSeconds: rate > 0 ? remaining / rate : 0)
    }

    private static func seconds(since start: DispatchTime) -> Double {
        Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
    }
}

/// Why a training run failed.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    case diverged(epoch: Int, step: Int)

    public var description: String {
        switch self {
        case let .diverged(epoch, step):
            return "training diverged (the loss is not finite) in epoch \(epoch) at step \(step); lower the learning rate"
        }
    }
}
