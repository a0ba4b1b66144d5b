import Dispatch
import Foundation

/// The in-process trainer: a bounded queue of training jobs run one at a time on a worker thread.
///
/// Jobs are kept in memory and, when a state directory is given, written there atomically on every
/// state change, so finished jobs survive a restart (jobs that were queued or running when the
/// process ended are marked failed on the next start). Watchers receive every update.
public final class TrainerQueue: @unchecked Sendable {
    /// Runs one job: reports progress, polls `shouldStop`, returns the stored model as "name/version".
    public typealias Runner = @Sendable (
        _ job: TrainingJob, _ report: @escaping @Sendable (TrainingJob.Progress) -> Void, _ shouldStop: @escaping @Sendable () -> Bool
    ) throws -> String

    private let lock = NSLock()
    private var jobs: [String: TrainingJob] = [:]
    private var order: [String] = []
    private var watchers: [String: [UUID: AsyncStream<TrainingJob>.Continuation]] = [:]
    private var waiting: [String] = []
    private var busy = false
    private let worker = DispatchQueue(label: "fixserve.trainer", qos: .utility)
    private let runner: Runner
    private let stateDirectory: URL?
    /// The most jobs waiting to start.
    public let maxQueued: Int

    public init(maxQueued: Int = 16, stateDirectory: URL?, runner: @escaping Runner) {
        self.maxQueued = maxQueued
        self.stateDirectory = stateDirectory
        self.runner = runner
        restore()
    }

    /// Queues a job.
    ///
    /// - Throws: `ServiceError` 400 when the request is invalid, 503 when the queue is full.
    @discardableResult
    public func submit(_ request: TrainingRequest) throws -> TrainingJob {
        try request.validate()
        let job = TrainingJob(id: UUID().uuidString.lowercased(), request: request)
        try lock.withLock {
            guard waiting.count < maxQueued else {
                throw ServiceError.unavailable("the training queue is full (\(maxQueued) jobs waiting); retry later")
            }
            jobs[job.id] = job
            order.append(job.id)
            waiting.append(job.id)
            persist(job)
        }
        pump()
        return job
    }

    /// One job, or nil.
    public func job(_ id: String) -> TrainingJob? { lock.withLock { jobs[id] } }

    /// All jobs, oldest first.
    public func allJobs() -> [TrainingJob] { lock.withLock { order.compactMap { jobs[$0] } } }

    /// Cancels a queued job at once, or asks a running one to stop.
    ///
    /// - Throws: `ServiceError` 404 for an unknown job, 409 for a finished one.
    public func cancel(_ id: String) throws -> TrainingJob {
        let updated: TrainingJob = try lock.withLock {
            guard var job = jobs[id] else { throw ServiceError.notFound("no training job \(id)") }
            do { _ = try job.cancel() } catch { throw ServiceError(status: 409, "\(error)") }
            jobs[id] = job
            waiting.removeAll { $0 == id }
            if job.state.isFinal { persist(job) }
            return job
        }
        publish(updated)
        return updated
    }

    /// Every update of a job from now on; the stream ends when the job reaches a final state.
    public func updates(of id: String) -> AsyncStream<TrainingJob>? {
        lock.withLock {
            guard let job = jobs[id] else { return nil }
            return AsyncStream(bufferingPolicy: .bufferingNewest(64)) { continuation in
                continuation.yield(job)
                if job.state.isFinal { continuation.finish(); return }
                let key = UUID()
                watchers[id, default: [:]][key] = continuation
                continuation.onTermination = { [weak self] _ in
                    self?.lock.withLock { _ = self?.watchers[id]?.removeValue(forKey: key) }
                }
            }
        }
    }

    // MARK: - Worker

    private func pump() {
        let next: TrainingJob? = lock.withLock {
            guard !busy, !waiting.isEmpty, var job = jobs[waiting.removeFirst()] else { return nil }
            guard (try? job.start()) == .startTraining else { return nil }
            busy = true
            jobs[job.id] = job
            persist(job)
            return job
        }
        guard let job = next else { return }
        publish(job)
        worker.async { self.run(job) }
    }

    private func run(_ job: TrainingJob) {
        let id = job.id
        let outcome = Result {
            try runner(job, { [weak self] progress in self?.update(id) { $0.report(progress) } },
                       { [weak self] in self?.lock.withLock { self?.jobs[id]?.stopRequested } ?? true })
        }
        update(id) { job in
            switch outcome {
            case .success(let model): return job.finish(model: model, error: nil)
            case .failure(let error): return job.finish(model: nil, error: "\(error)")
            }
        }
        lock.withLock { busy = false }
        pump()
    }

    private func update(_ id: String, _ change: (inout TrainingJob) -> TrainingJob.Action) {
        let changed: TrainingJob? = lock.withLock {
            guard var job = jobs[id] else { return nil }
            let action = change(&job)
            jobs[id] = job
            // Progress is not written; state changes are, before anyone can see them.
            if action == .publish && job.state != .running { persist(job) }
            return action == .publish ? job : nil
        }
        if let changed { publish(changed) }
    }

    /// Tells the watchers; the state directory already holds the change.
    private func publish(_ job: TrainingJob) {
        let targets = lock.withLock { Array((watchers[job.id] ?? [:]).values) }
        for continuation in targets {
            continuation.yield(job)
            if job.state.isFinal { continuation.finish() }
        }
    }

    // MARK: - State directory

    /// Writes one job's file; called with `lock` held, so the file never lags behind what readers see.
    private func persist(_ job: TrainingJob) {
        guard let stateDirectory else { return }
        let url = stateDirectory.appendingPathComponent("jobs").appendingPathComponent("\(job.id).json")
        if let data = try? JSONEncoder.sorted.encode(job) { try? AtomicFile.write(data, to: url) }
    }

    private func restore() {
        guard let stateDirectory else { return }
        let folder = stateDirectory.appendingPathComponent("jobs")
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return }
        var restored: [TrainingJob] = []
        for name in names where name.hasSuffix(".json") {
            guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path),
                  var job = try? JSONDecoder().decode(TrainingJob.self, from: data) else { continue }
            if !job.state.isFinal {
                if job.state == .queued { _ = try? job.start() }
                _ = job.finish(model: nil, error: "the server stopped before the job finished")
                persist(job)
            }
            restored.append(job)
        }
        restored.sort { $0.created < $1.created }
        for job in restored {
            jobs[job.id] = job
            order.append(job.id)
        }
    }
}

extension JSONEncoder {
    /// Stable key order and ISO 8601 dates, for files people read and diff.
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return encoder
    }
}
