import Dispatch
import Foundation
import Logging

/// The in-process trainer: a bounded queue of training jobs run one at a time on a thread of its
/// own, at a lower scheduling priority than serving (`niceness`).
///
/// Jobs are kept in memory and, when a state directory is given, written there atomically on every
/// state change, with the order of the queued ones and the running job's checkpoints, so jobs
/// survive a restart, even a SIGKILL: queued jobs stay queued in their order, and the job that
/// was running continues from its last checkpoint (or from the start when it had none yet)
/// before the queued ones. A write that fails is logged, counted by
/// `onStateFileFailure` and shown in the job itself (`stateFileError`) until a later write
/// succeeds. Memory holds every queued and running job and the last `maxFinished` finished ones;
/// older finished jobs live only in the state directory, where `job(_:)` still finds them.
/// Watchers receive every update.
public final class TrainerQueue: @unchecked Sendable {
    /// Runs one job: reports progress, polls `shouldStop`, returns the stored model as "name/version".
    public typealias Runner = @Sendable (
        _ job: TrainingJob, _ report: @escaping @Sendable (TrainingJob.Progress) -> Void, _ shouldStop: @escaping @Sendable () -> Bool
    ) throws -> String
    /// Runs one job with what the queue offers it (see `Context`), returns the stored model as "name/version".
    public typealias JobRunner = @Sendable (_ job: TrainingJob, _ context: Context) throws -> String

    /// What a running job gets from the queue.
    public struct Context: Sendable {
        /// Reports progress.
        public var report: @Sendable (TrainingJob.Progress) -> Void
        /// Whether the job was asked to stop; polled between batches.
        public var shouldStop: @Sendable () -> Bool
        /// The job's checkpoint file: resume from it when it exists, write checkpoints to it.
        /// nil without a state directory. The queue removes it when the job ends.
        public var checkpoint: TrainingCheckpointFile?
        /// Tell the queue the run continues from a checkpoint after `epoch` epochs and `batch` batches.
        public var resumed: @Sendable (_ epoch: Int, _ batch: Int) -> Void
    }

    private let lock = NSLock()
    private var jobs: [String: TrainingJob] = [:]
    /// The ids in `jobs`, oldest first.
    private var order: [String] = []
    /// The finished ids in `jobs`, in the order they finished: the first ones leave memory once
    /// there are more than `maxFinished`.
    private var finishedOrder: [String] = []
    private var watchers: [String: [UUID: AsyncStream<TrainingJob>.Continuation]] = [:]
    private var waiting: [String] = []
    /// The queue order last written to the state directory.
    private var writtenOrder: [String]?
    /// A job that was running when the process stopped, to run again before the waiting ones.
    private var resuming: String?
    private var busy = false
    private let runner: JobRunner
    private let store: TrainingJobStore?
    private let logger: Logger
    private let onStateFileFailure: @Sendable () -> Void
    /// The most jobs waiting to start.
    public let maxQueued: Int
    /// Per-owner and per-job limits on what is submitted.
    public let limits: TrainingLimits
    /// The most finished jobs kept in memory (and listed by `allJobs`).
    public let maxFinished: Int
    /// How many nice levels below the thread that made the queue jobs run (Linux keeps a nice
    /// value per thread): 10 lets the serving threads take the cores first.
    public let niceness: Int32
    /// The nice value of the threads jobs run on.
    private let trainerNice: Int32

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
    ///   - niceness: how many nice levels below the calling thread jobs run (0…19; the value
    ///     stops at 19).
    ///   - runner: runs a job; a job that was running when the process stopped is run again
    ///     (with the same `Context.checkpoint`), starting as soon as the queue is made.
    public init(maxQueued: Int = 16, maxFinished: Int = 100, limits: TrainingLimits = TrainingLimits(), stateDirectory: URL?,
                logger: Logger = Logger(label: "fixserve.trainer"), onStateFileFailure: @escaping @Sendable () -> Void = {},
                niceness: Int32 = 10, jobRunner runner: @escaping JobRunner) {
        self.maxQueued = maxQueued
        self.limits = limits
        self.maxFinished = max(0, maxFinished)
        self.store = stateDirectory.map(TrainingJobStore.init(stateDirectory:))
        self.logger = logger
        self.onStateFileFailure = onStateFileFailure
        self.niceness = min(19, max(0, niceness))
        self.trainerNice = min(19, getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) + self.niceness)
        self.runner = runner
        restore()
        pump()
    }

    /// A queue whose runner needs no checkpoints (it ignores them and starts a restarted job
    /// from the beginning).
    public convenience init(maxQueued: Int = 16, maxFinished: Int = 100, limits: TrainingLimits = TrainingLimits(),
                            stateDirectory: URL?, logger: Logger = Logger(label: "fixserve.trainer"),
                            onStateFileFailure: @escaping @Sendable () -> Void = {}, niceness: Int32 = 10, runner: @escaping Runner) {
        self.init(maxQueued: maxQueued, maxFinished: maxFinished, limits: limits, stateDirectory: stateDirectory, logger: logger,
                  onStateFileFailure: onStateFileFailure, niceness: niceness) { job, context in
            try runner(job, context.report, context.shouldStop)
        }
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
            // A stop request is written too: a restart must not resume a job the client cancelled.
            persist(id)
            if job.state.isFinal { retire(id) }
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
            guard !busy else { return nil }
            if let id = resuming, let job = jobs[id] {
                resuming = nil
                busy = true
                return job
            }
            guard !waiting.isEmpty, var job = jobs[waiting.removeFirst()] else { return nil }
            guard (try? job.start()) == .startTraining else { return nil }
            busy = true
            jobs[job.id] = job
            persist(job.id)
            return jobs[job.id] ?? job
        }
        guard let job = next else { return }
        publish(job)
        // A thread per job: its nice value is its own and goes with it (an unprivileged
        // process cannot lower a nice value again, so a pooled thread could not be handed back).
        let nice = trainerNice
        let thread = Thread { [self] in
            // Named from inside: the name reaches the kernel (`comm`, 15 bytes) only for the current thread.
            Thread.current.name = "fixserve-train"
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, nice)  // 0: this thread, on Linux
            run(job)
        }
        thread.stackSize = 8 << 20
        thread.start()
    }

    private func run(_ job: TrainingJob) {
        let id = job.id
        let context = Context(
            report: { [weak self] progress in self?.update(id) { $0.report(progress) } },
            shouldStop: { [weak self] in self?.lock.withLock { self?.jobs[id]?.stopRequested } ?? true },
            checkpoint: store?.checkpoint(of: id),
            resumed: { [weak self] epoch, batch in self?.update(id, persistRunning: true) { $0.resumed(epoch: epoch, batch: batch) } })
        let outcome = Result { try runner(job, context) }
        update(id) { job in
            switch outcome {
            case .success(let model): return job.finish(model: model, error: nil)
            case .failure(let error): return job.finish(model: nil, error: "\(error)")
            }
        }
        lock.withLock { busy = false }
        pump()
    }

    private func update(_ id: String, persistRunning: Bool = false, _ change: (inout TrainingJob) -> TrainingJob.Action) {
        let changed: TrainingJob? = lock.withLock {
            guard var job = jobs[id] else { return nil }
            let action = change(&job)
            jobs[id] = job
            // Progress is not written; state changes are, before anyone can see them.
            if action == .publish && (job.state != .running || persistRunning) { persist(id) }
            let changed = action == .publish ? jobs[id] : nil
            if job.state.isFinal && action == .publish {
                // After the final state is written: a crash in between leaves a checkpoint
                // that the next start removes, never a finished job that runs again.
                store?.checkpoint(of: id).remove()
                retire(id)
            }
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
        persistQueueOrder()
    }

    /// Writes the order of the waiting jobs when it changed since the last write; called with
    /// `lock` held, after the job files. A failed write is logged and counted; a restart then
    /// falls back to the jobs' submission times.
    private func persistQueueOrder() {
        guard let store, writtenOrder != waiting else { return }
        do {
            try store.writeQueue(waiting)
            writtenOrder = waiting
        } catch {
            writtenOrder = nil
            logger.error("cannot write the training queue's order; a restart will order the queued jobs by submission time",
                         metadata: ["cause": "\(error)"])
            onStateFileFailure()
        }
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

    /// Loads the state directory: finished jobs as they were, queued ones back in the queue in
    /// their saved order, and the one that was running ready to run again first. A job that
    /// was asked to stop before the process ended ends cancelled.
    private func restore() {
        guard let store else { return }
        let (restored, unreadable) = store.readAll()
        for name in unreadable {
            logger.warning("skipping a training job file that cannot be read",
                           metadata: ["file": "\(store.folder.appendingPathComponent(name).path)"])
        }
        var savedOrder: [String] = []
        do {
            savedOrder = try store.readQueue() ?? []
        } catch {
            logger.warning("cannot read the training queue's order; queued jobs run in submission order",
                           metadata: ["file": "\(store.queueFile.path)", "cause": "\(error)"])
        }
        for job in restored { jobs[job.id] = job }
        let queued = jobs.values.filter { $0.state == .queued }
        let queuedIDs = Set(queued.map(\.id))
        var inOrder = savedOrder.filter { queuedIDs.contains($0) }
        // Jobs whose file was written but not the order that followed it, in submission order.
        let listed = Set(inOrder)
        inOrder += queued.filter { !listed.contains($0.id) }.sorted { ($0.created, $0.id) < ($1.created, $1.id) }.map(\.id)
        var seen = Set<String>()
        waiting = inOrder.filter { seen.insert($0).inserted }
        let checkpointed = Set(store.checkpointedIDs())
        var running: [TrainingJob] = []
        for var job in restored where job.state == .running {
            if job.stopRequested {
                _ = job.finish(model: nil, error: "the server stopped before the job could stop")
            } else {
                _ = job.restarted(hasCheckpoint: checkpointed.contains(job.id))
                running.append(job)
            }
            jobs[job.id] = job
            if job.state.isFinal { persist(job.id) }
        }
        // One job runs at a time; should a damaged directory hold more, the first started resumes.
        running.sort { ($0.started ?? $0.created, $0.id) < ($1.started ?? $1.created, $1.id) }
        for (index, job) in running.enumerated() {
            if index == 0 {
                resuming = job.id
                persist(job.id)
            } else {
                var other = job
                _ = other.finish(model: nil, error: "the server stopped while another job was running; submit it again")
                jobs[job.id] = other
                persist(job.id)
            }
        }
        persistQueueOrder()
        // A checkpoint belongs to the running job only; others are left from a crash between a
        // job's end and the removal of its checkpoint, as are temporary files of torn writes.
        for id in checkpointed where id != resuming { store.checkpoint(of: id).remove() }
        if let names = try? FileManager.default.contentsOfDirectory(atPath: store.checkpointFolder.path) {
            for name in names where name.hasPrefix(".") && name.hasSuffix(".tmp") {
                try? FileManager.default.removeItem(at: store.checkpointFolder.appendingPathComponent(name))
            }
        }
        // The last `maxFinished` finished jobs stay in memory, with any whose file could not be
        // rewritten; the others are read from disk when asked for.
        let byFinish = jobs.values.filter(\.state.isFinal)
            .sorted { ($0.finished ?? $0.created, $0.id) < ($1.finished ?? $1.created, $1.id) }
        for job in byFinish.dropLast(maxFinished) where job.stateFileError == nil { jobs[job.id] = nil }
        finishedOrder = byFinish.map(\.id).filter { jobs[$0] != nil }
        order = jobs.values.sorted { ($0.created, $0.id) < ($1.created, $1.id) }.map(\.id)
    }
}
