import Datasets
import Foundation
import Numerics

/// Everything a training run needs to continue where it stood, bit for bit: the network's
/// tensors (parameters and BatchNorm running statistics, the head's α and b included), the
/// optimiser's velocities, the random streams (the batch order and augmentation of the current
/// epoch, the dropout masks), the position (epoch, batch, step: the learning-rate schedule
/// follows from the step) and the history so far.
///
/// Written by `TrainingRun` after every epoch (and every N batches when asked), stored by
/// `TrainingCheckpointFile`.
public struct TrainingCheckpoint: Sendable, Equatable {
    /// The request the run was started for, as canonical JSON: a checkpoint only continues the
    /// run it came from.
    public var request: String
    /// Epochs finished; the run continues in epoch `epoch` (0-based).
    public var epoch: Int
    /// Batches of epoch `epoch` already trained on (0 at an epoch's start).
    public var batch: Int
    /// Optimiser steps taken in all, the learning-rate schedule's position.
    public var step: Int
    /// The current epoch's running sums (loss × samples, correct predictions, samples).
    public var lossSum: Double
    public var correct: Double
    public var seen: Int
    /// The finished epochs' records.
    public var history: [TrainingRun.Epoch]
    /// Training time before the checkpoint, in seconds.
    public var elapsedSeconds: Double
    /// Where the batch iterator stood in epoch `epoch`.
    public var batches: BatchIterator.Cursor
    /// The state of each dropout layer's generator, in backbone order.
    public var dropoutGenerators: [[UInt64]]
    /// The network's tensors by full name (`Network.namedTensors`).
    public var tensors: [String: Tensor]
    /// SGD's velocity for each of `Network.parameters`, in order; nil before its first step.
    public var velocities: [[Float]?]

    public init(
        request: TrainingRequest, epoch: Int, batch: Int, step: Int, lossSum: Double, correct: Double, seen: Int,
        history: [TrainingRun.Epoch], elapsedSeconds: Double, batches: BatchIterator.Cursor,
        dropoutGenerators: [[UInt64]], tensors: [String: Tensor], velocities: [[Float]?]
    ) {
        self.init(
            requestJSON: Self.canonical(request), epoch: epoch, batch: batch, step: step, lossSum: lossSum, correct: correct,
            seen: seen, history: history, elapsedSeconds: elapsedSeconds, batches: batches,
            dropoutGenerators: dropoutGenerators, tensors: tensors, velocities: velocities)
    }

    init(
        requestJSON: String, epoch: Int, batch: Int, step: Int, lossSum: Double, correct: Double, seen: Int,
        history: [TrainingRun.Epoch], elapsedSeconds: Double, batches: BatchIterator.Cursor,
        dropoutGenerators: [[UInt64]], tensors: [String: Tensor], velocities: [[Float]?]
    ) {
        self.request = requestJSON
        self.epoch = epoch
        self.batch = batch
        self.step = step
        self.lossSum = lossSum
        self.correct = correct
        self.seen = seen
        self.history = history
        self.elapsedSeconds = elapsedSeconds
        self.batches = batches
        self.dropoutGenerators = dropoutGenerators
        self.tensors = tensors
        self.velocities = velocities
    }

    /// The request as JSON with sorted keys, the same text for the same request.
    static func canonical(_ request: TrainingRequest) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? encoder.encode(request)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// Checks that the checkpoint continues a run of `request` over the same data.
    ///
    /// - Throws: `TrainingCheckpointError.mismatch` naming what differs.
    func check(matches request: TrainingRequest, trainingCount: Int, stepsPerEpoch: Int) throws {
        guard self.request == Self.canonical(request) else {
            throw TrainingCheckpointError.mismatch("it was written for another request (\(self.request))")
        }
        guard (0...request.epochs).contains(epoch), (0..<max(stepsPerEpoch, 1)).contains(batch),
              history.count == epoch, step == epoch * stepsPerEpoch + batch else {
            throw TrainingCheckpointError.mismatch(
                "its position (epoch \(epoch), batch \(batch), step \(step), \(history.count) epochs of history) "
                    + "does not fit \(request.epochs) epochs of \(stepsPerEpoch) batches")
        }
        guard batch == 0 || (batches.epoch == epoch && batches.offset == min(batch * request.batchSize, trainingCount)) else {
            throw TrainingCheckpointError.mismatch(
                "its batch position (image \(batches.offset) of epoch \(batches.epoch)) does not fit batch \(batch) of epoch \(epoch)")
        }
    }
}

/// Why a checkpoint could not be used. The job it belongs to fails with this; nothing else is touched.
public enum TrainingCheckpointError: Error, Equatable, CustomStringConvertible {
    /// The file is damaged: it cannot be parsed, or its checksum does not match its contents.
    case corrupt(path: String, problem: String)
    /// The file is sound but written by another format version.
    case unsupportedVersion(path: String, version: String)
    /// The file is sound but does not continue this run.
    case mismatch(String)
    /// The file could not be read.
    case unreadable(path: String, problem: String)

    public var description: String {
        switch self {
        case let .corrupt(path, problem):
            return "the training checkpoint \(path) is corrupt (\(problem)); the job cannot resume, submit it again"
        case let .unsupportedVersion(path, version):
            return "the training checkpoint \(path) has format version \(version), this server reads version "
                + "\(TrainingCheckpointFile.formatVersion); the job cannot resume, submit it again"
        case let .mismatch(detail):
            return "the training checkpoint does not belong to this run: \(detail); the job cannot resume, submit it again"
        case let .unreadable(path, problem):
            return "the training checkpoint \(path) cannot be read (\(problem)); the job cannot resume, submit it again"
        }
    }
}
