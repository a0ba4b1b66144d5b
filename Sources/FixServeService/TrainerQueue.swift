import Dispatch
import Foundation
import Logging

/// The in-process trainer: a bounded queue of training jobs run one at a time on a worker thread.
///
/// Jobs are kept in memory and, when a state directory is given, written there atomically on every
/// state change, so finished jobs survive a restart (jobs that were queued or running when the
/// process ended are marked failed on the next start). A write that fails is logged, counted by
/// `onStateFileFailure` and shown in the job itself (`stateFileError`) until a later write
/// succeeds. Memory holds every queued and running job and the last `maxFinished` finished ones;
/// older finished jobs live only in the state directory, where `job(_:)` still finds them.
/// Watchers receive every update.
public final class TrainerQueue: @unchecked Sendable {
    /// Runs one job: reports progress, polls `shouldStop`, returns the stored model as "name/version".
    public typealias Runner = @Sendable (
        _ job: TrainingJob, _ report: @escaping @Sendable (TrainingJob.Progress) -> Void, _ shouldStop: @escaping @Sendable () -> Bool
    ) throws -> String

    private let lock = NSLock()
    private var jobs: [String: TrainingJob] = [:]
    /// The ids in `jobs`, oldest first.
    private var order: [String] = []
    /// The finished ids in `jobs`, in the order they finished: the first ones leave memory once
    /// there are more than `maxFinished`.
    private var finishedOrder: [String] = []
    private var watchers: [String: [UUID: AsyncStream<TrainingJob>.Continuation]] = [:]
    private var waiting: [String] = []
    private var busy = false
    private let worker = DispatchQueue(label: "fixserve.trainer", qos: .utility)
    private let runner: Runner
    private let store: TrainingJobStore?
    private let logger: Logger
    private let onStateFileFailure: @Sendable () -> Void
    /// The most jobs waiting to start.
    public let maxQueued: Int
    /// Per-owner and per-job limits on what is submitted.
    public let limits: TrainingLimits
    /// The most finished jobs kept in memory (and listed by `allJobs`).
    public let maxFinished: Int

    /// - Parameters:
    ///   - maxQueued: the most jobs waiting to start; more are refused with 429 (0 refuses
    ///     every job with 503: the server trains nothing).
    ///   - limits: the most jobs one owner may have waiting, and the largest job.
    ///   - maxFinished: the most finished jobs kept in memory (≥ 0); older ones are read back
    ///     from the state directory when asked for by id.
    ///   - stateDirectory: where job files go (`<state>/jobs/<id>.json`); nil keeps jobs in
    ///     memory only, so a finished job past `maxFinished` is gone.
    ///   - onStateFileFailure: called (lock held, so it must not call back) for each job file
    ///     that could not be written, e.g. to count it in the metrics.
    public init(maxQueued: Int = 16, maxFinished: Int = 100, limits: TrainingLimits = TrainingLimits(), stateDirectory: URL?,
                logger: Logger = Logger(label: "fixserve.trainer"), onStateFileFailure: @escaping @Sendable () -> Void = {},
                runner: @escaping Runner) {
        self.maxQueued = maxQueued
        self.limits = limits
        self.maxFinished = max(0, maxFinished)
        self.store = stateDirectory.map(TrainingJobStore.init(stateDirectory:))
        self.logger = logger
        self.onStateFileFailure = onStateFileFailure
        self.runner = runner
        restore()
    }

    /// Queues a job for `owner` (an API key's name; nil on a server without keys).
    ///
    /// - Throws: `ServiceError` 400 when the request is invalid, 413 when it asks for more
    ///   sample passes than `limits` allow, 429 when the queue or the owner's share of it is
    ///   full, 503 when the queue holds no jobs at all (`maxQueued` 0).
    @discardableResult
    public func submit(_ request: TrainingRequest, owner: String? = nil) throws -> TrainingJob {
        try request.validate()
        try limits.checkSize(of: request)
        let job = TrainingJob(id: UUID().uuidString.lowercased(), request: request, owner: owner)
        // A queue of no places is a server that trains nothing, not one that is busy.
        guard maxQueued > 0 else { throw ServiceError.unavailable("this server takes no training jobs (its queue holds 0)") }
        let queued: TrainingJob = try lock.withLock {
            guard waiting.count < maxQueued else {
                throw ServiceError.tooManyRequests("the training queue is full (\(maxQueued) jobs waiting to start); retry once one has started")
            }
            if limits.maxQueuedPerOwner > 0 {
                let owned = waiting.count { jobs[$0]?.owner == owner }
                guard owned < limits.maxQueuedPerOwner else {
                    throw ServiceError.tooManyRequests(
                        "\(owner.map { "the key \($0) has" } ?? "callers without a key have") \(owned) training jobs waiting to start, the most one key may have (--max-queued-jobs-per-key); retry once one has started, or cancel one")
                }
            }
            jobs[job.id] = job
            order.append(job.id)
            waiting.append(job.id)
            persist(job.id)
            return jobs[job.id] ?? job
        }
        pump()
        return queued
    }

    /// One job, or nil: from memory, or for a finished job that left memory, from its file.
    /// A file that exists but cannot be read is logged and treated as absent.
    public func job(_ id: String) -> TrainingJob? {
        if let job = lock.withLock({ jobs[id] }) { return job }
        guard let store else { return nil }
        do {
            return try store.read(id: id)
        } catch {
            logger.error("cannot read a training job's file", metadata: ["job": "\(id)", "cause": "\(error)"])
            return nil
        }
    }

    /// Why `job(id)` found nothing, for a 404 that tells the client where finished jobs go.
    public func notFoundMessage(_ id: String) -> String {
        store == nil
            ? "no training job \(id) (this server keeps the last \(maxFinished) finished jobs in memory and has no state directory)"
            : "no training job \(id), in memory or in the state directory"
    }

    /// The jobs in memory, oldest first: every queued and running job and the last
    /// `maxFinished` finished ones.
    public func allJobs() -> [TrainingJob] { lock.withLock { order.compactMap { jobs[$0] } } }

    /// Cancels a queued job at once, or asks a running one to stop.
    ///
    /// - Throws: `ServiceError` 404 for an unknown job, 409 for a finished one.
    public func cancel(_ id: String) throws -> TrainingJob {
        let updated: TrainingJob? = try lock.withLock {
            guard var job = jobs[id] else { return nil }
            do { _ = try job.cancel() } catch { throw ServiceError(status: 409, "\(error)") }
            jobs[id] = job
            waiting.removeAll { $0 == id }
            if job.state.isFinal {
                persist(id)
                retire(id)
            }
            return jobs[id] ?? job
        }
        guard let updated else {
            // Only finished jobs leave memory: one found on disk cannot be cancelled.
            guard let stored = job(id) else { throw ServiceError.notFound(notFoundMessage(id)) }
            throw ServiceError(status: 409, "\(TrainingJob.Transition.notAllowed(from: stored.state, event: "be cancelled"))")
        }
        publish(updated)
        return updated
    }

    /// Every update of a job from now on; the stream ends when the job reaches a final state.
    /// A finished job that left memory gives its final state once.
    public func updates(of id: String) -> AsyncStream<TrainingJob>? {
        let live: AsyncStream<TrainingJob>? = lock.withLock {
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
        if let live { return live }
        guard let stored = job(id) else { return nil }
        return AsyncStream { continuation in
            continuation.yield(stored)
            continuation.finish()
        }
    }

    // MARK: - Worker

    private func pump() {
        let next: TrainingJob? = lock.withLock {
            guard !busy, !waiting.isEmpty, var job = jobs[waiting.removeFirst()] else { return nil }
            guard (try? job.start()) == .startTraining else { return nil }
            busy = true
            jobs[job.id] = job
            persist(job.id)
            return jobs[job.id] ?? job
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
            if action == .publish && job.state != .running { persist(id) }
            let changed = action == .publish ? jobs[id] : nil
            if job.state.isFinal && action == .publish { retire(id) }
            return changed
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

    /// Writes one job's file; called with `lock` held, so the file never lags behind what
    /// readers see. A failed write leaves the job marked (`stateFileError`), logged and counted;
    /// the next successful write clears the mark.
    private func persist(_ id: String) {
        guard let store, var job = jobs[id] else { return }
        job.stateFileError = nil
        do {
            try store.write(job)
        } catch {
            job.stateFileError = "\(error)"
            logger.error("cannot write a training job's file; its state will not survive a restart",
                         metadata: ["job": "\(id)", "state": "\(job.state.rawValue)", "cause": "\(error)"])
            onStateFileFailure()
        }
        jobs[id] = job
    }

    /// Records that a job finished, and lets the oldest finished jobs leave memory while there
    /// are more than `maxFinished`. A job whose file could not be written stays (after one more
    /// try), so a full disk costs memory rather than jobs. Called with `lock` held.
    private func retire(_ id: String) {
        if !finishedOrder.contains(id) { finishedOrder.append(id) }
        var index = 0
        while finishedOrder.count - index > maxFinished, index < finishedOrder.count {
            let oldest = finishedOrder[index]
            if jobs[oldest]?.stateFileError != nil { persist(oldest) }
            if store != nil, jobs[oldest]?.stateFileError != nil {
                index += 1
                continue
            }
            finishedOrder.remove(at: index)
            jobs[oldest] = nil
            order.removeAll { $0 == oldest }
        }
    }

    private func restore() {
        guard let store else { return }
        let (restored, unreadable) = store.readAll()
        for name in unreadable {
            logger.warning("skipping a training job file that cannot be read",
                           metadata: ["file": "\(store.folder.appendingPathComponent(name).path)"])
        }
        for var job in restored {
            jobs[job.id] = job
            guard !job.state.isFinal else { continue }
            if job.state == .queued { _ = try? job.start() }
            _ = job.finish(model: nil, error: "the server stopped before the job finished")
            jobs[job.id] = job
            persist(job.id)
        }
        // Every restored job has finished now: the last `maxFinished` stay in memory, with any
        // whose file could not be rewritten; the others are read from disk when asked for.
        let byFinish = jobs.values.sorted { ($0.finished ?? $0.created, $0.id) < ($1.finished ?? $1.created, $1.id) }
        for job in byFinish.dropLast(maxFinished) where job.stateFileError == nil { jobs[job.id] = nil }
        finishedOrder = byFinish.map(\.id).filter { jobs[$0] != nil }
        order = jobs.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }.map(\.id)
    }
}
