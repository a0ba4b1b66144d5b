import Foundation

/// The lifecycle of one training job, as a state machine that returns what to do and does no I/O.
///
/// queued → running → succeeded | failed | cancelled; a queued job can be cancelled at once, a
/// running one is asked to stop and becomes `cancelled` when its loop notices.
public struct TrainingJob: Sendable, Codable, Equatable {
    public enum State: String, Sendable, Codable {
        case queued, running, succeeded, failed, cancelled

        /// Whether the job can change state again.
        public var isFinal: Bool { self == .succeeded || self == .failed || self == .cancelled }
    }

    /// Progress of a running job, updated once per reporting interval.
    public struct Progress: Sendable, Codable, Equatable {
        public var epoch: Int
        public var epochs: Int
        /// Samples seen in the current epoch.
        public var samples: Int
        public var samplesPerEpoch: Int
        public var trainLoss: Double
        public var trainAccuracy: Double
        /// Test accuracy of the last finished epoch.
        public var testAccuracy: Double?
        public var samplesPerSecond: Double
        /// Seconds until done, estimated from the rate so far.
        public var etaSeconds: Double

        public init(
            epoch: Int, epochs: Int, samples: Int, samplesPerEpoch: Int, trainLoss: Double, trainAccuracy: Double,
            testAccuracy: Double?, samplesPerSecond: Double, etaSeconds: Double
        ) {
            self.epoch = epoch
            self.epochs = epochs
            self.samples = samples
            self.samplesPerEpoch = samplesPerEpoch
            self.trainLoss = trainLoss
            self.trainAccuracy = trainAccuracy
            self.testAccuracy = testAccuracy
            self.samplesPerSecond = samplesPerSecond
            self.etaSeconds = etaSeconds
        }
    }

    /// What the owner must do after an event.
    public enum Action: Equatable, Sendable {
        case none
        /// Start the training loop for this job.
        case startTraining
        /// Tell the running loop to stop at its next check.
        case signalStop
        /// Announce the new state to watchers and persist it.
        case publish
    }

    /// Something that happened to a job besides its state changes: a restart of the server
    /// while it ran, the checkpoint it continued from.
    public struct Event: Sendable, Codable, Equatable {
        public var time: Date
        public var message: String
        /// Set when the job continued from a checkpoint: epochs finished before it…
        public var epoch: Int?
        /// …and batches of the next epoch.
        public var batch: Int?

        public init(time: Date, message: String, epoch: Int? = nil, batch: Int? = nil) {
            self.time = time
            self.message = message
            self.epoch = epoch
            self.batch = batch
        }
    }

    public enum Transition: Error, Equatable, CustomStringConvertible {
        case notAllowed(from: State, event: String)
        public var description: String {
            switch self {
            case let .notAllowed(from, event): return "a \(from.rawValue) job cannot \(event)"
            }
        }
    }

    public let id: String
    public let request: TrainingRequest
    /// Who submitted the job: the name of the API key (never the key), nil on a server
    /// without keys and in files older servers wrote.
    public let owner: String?
    public private(set) var state: State = .queued
    public private(set) var progress: Progress?
    public private(set) var stopRequested = false
    /// The model version written on success, as "name/version".
    public private(set) var result: String?
    public private(set) var error: String?
    public let created: Date
    public private(set) var started: Date?
    public private(set) var finished: Date?
    /// Why the job's file in the state directory could not be written, when its last write
    /// failed (a full disk, say): until a later write succeeds, this state exists only in
    /// memory and a restart loses it. Set and cleared by the queue that owns the job.
    public internal(set) var stateFileError: String?
    /// What happened to the job besides its state changes, oldest first; nil when nothing did
    /// (and in files written before jobs had events).
    public private(set) var events: [Event]?

    public init(id: String, request: TrainingRequest, owner: String? = nil, created: Date = Date()) {
        self.id = id
        self.request = request
        self.owner = owner
        self.created = created
    }

    /// The worker picked the job up.
    public mutating func start(at time: Date = Date()) throws -> Action {
        guard state == .queued else { throw Transition.notAllowed(from: state, event: "start") }
        state = .running
        started = time
        return .startTraining
    }

    /// The loop reported progress.
    public mutating func report(_ progress: Progress) -> Action {
        guard state == .running else { return .none }
        self.progress = progress
        return .publish
    }

    /// The client asked to cancel.
    public mutating func cancel(at time: Date = Date()) throws -> Action {
        switch state {
        case .queued:
            state = .cancelled
            finished = time
            return .publish
        case .running:
            if stopRequested { return .none }
            stopRequested = true
            return .signalStop
        case .succeeded, .failed, .cancelled:
            throw Transition.notAllowed(from: state, event: "be cancelled")
        }
    }

    /// The server restarted while the job ran; it runs again, from its checkpoint if it has one.
    public mutating func restarted(hasCheckpoint: Bool, at time: Date = Date()) -> Action {
        guard state == .running else { return .none }
        events = (events ?? []) + [Event(time: time, message: hasCheckpoint
            ? "the server restarted while the job was running; it continues from its last checkpoint"
            : "the server restarted before the job's first checkpoint; it starts again from the beginning")]
        return .publish
    }

    /// The loop continued from a checkpoint taken after `epoch` epochs and `batch` batches of the next.
    public mutating func resumed(epoch: Int, batch: Int, at time: Date = Date()) -> Action {
        guard state == .running else { return .none }
        let message = batch == 0 ? "resumed from epoch \(epoch)" : "resumed from epoch \(epoch), batch \(batch)"
        events = (events ?? []) + [Event(time: time, message: message, epoch: epoch, batch: batch)]
        return .publish
    }

    /// The loop ended: with a stored model, an error, or because it was asked to stop.
    public mutating func finish(model: String?, error: String?, at time: Date = Date()) -> Action {
        guard state == .running else { return .none }
        finished = time
        if let error {
            state = stopRequested ? .cancelled : .failed
            self.error = stopRequested ? nil : error
        } else if let model {
            state = .succeeded
            result = model
        } else {
            state = .cancelled
        }
        return .publish
    }
}
