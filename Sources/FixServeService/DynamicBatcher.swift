import Dispatch
import Foundation

/// Gathers concurrent requests for one model into batched forward passes, like Triton's dynamic
/// batcher, and owns the batches' buffers.
///
/// A request names how many rows it has and how to write them; it adds itself under a lock and
/// waits for its own results. When a model instance is idle, the oldest whole requests (at most
/// `maxBatchSize` rows) form a batch. Its requests then write their rows straight into that
/// instance's input buffer (decoding an image there, say), the batch computes into the
/// instance's output buffer, and each request reads its results as a view of that buffer: a row
/// is written once and never copied. At most `instances` batches compute at once. While a
/// batch is computing, new requests gather; when it ends, the same thread runs the next batch
/// from them at once. A connection's loop may run the batches itself, after the wake-up that
/// brought their requests in (`Placement.afterCurrentWork`): no other thread is woken, and a
/// batch holds every request of that wake-up. A request whose rows cannot be written, or a
/// failing batch, fails only its own requests.
public final class DynamicBatcher: @unchecked Sendable {
    /// Limits of one batcher.
    public struct Settings: Sendable, Equatable {
        /// The most rows in one compute call.
        public var maxBatchSize: Int
        /// How long the first request of a batch may wait for others, in microseconds.
        public var maxQueueDelayMicroseconds: Int
        /// The most rows waiting; a request that would exceed it is refused (HTTP 503).
        public var maxQueueSize: Int
        /// How many batches may compute at once (model instances, each with its own buffers).
        public var instances: Int
        /// The longest a batch may hold a connection's loop, and every connection on it
        /// (`Placement.afterCurrentWork`), in seconds.
        public var loopBudgetSeconds: Double

        public init(maxBatchSize: Int = 64, maxQueueDelayMicroseconds: Int = 0, maxQueueSize: Int = 1024, instances: Int = 1,
                    loopBudgetSeconds: Double = 0.002) {
            self.maxBatchSize = maxBatchSize
            self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
            self.maxQueueSize = maxQueueSize
            self.instances = max(1, instances)
            self.loopBudgetSeconds = loopBudgetSeconds
        }
    }

    /// What one executed batch looked like, for metrics.
    public struct BatchReport: Sendable {
        /// Rows in the batch.
        public var rows: Int
        /// Requests in the batch.
        public var requests: Int
        /// How long each request waited in the queue, in seconds.
        public var queueSeconds: [Double]
        /// How long the compute call took, in seconds.
        public var computeSeconds: Double
    }

    /// One request's results: a view of the batch's output, valid only during the completion.
    public struct Answer {
        /// `rows × resultSize` values, row-major.
        public let results: UnsafeBufferPointer<Float>
        public let rows: Int
        public let resultSize: Int
        /// How long writing the request's rows took (decoding, normalising), in nanoseconds.
        public let preparationNanoseconds: UInt64

        /// The results of row `index`.
        public func row(_ index: Int) -> UnsafeBufferPointer<Float> {
            UnsafeBufferPointer(rebasing: results[index * resultSize..<(index + 1) * resultSize])
        }
    }

    /// Writes one request's rows into its part of the batch input (`rows × rowSize` floats);
    /// runs on the thread that runs the batch. What it throws fails only its request.
    public typealias RowWriter = @Sendable (UnsafeMutableBufferPointer<Float>) throws -> Void

    /// How a request hears of its results (or why there are none); called once, on the thread
    /// that ran its batch, or on the submitting thread when the request is refused.
    public typealias Completion = @Sendable (Swift.Result<Answer, Error>) -> Void

    /// Runs one batch on model instance `instance` (0 ..< `instances`; no two batches share
    /// one): `rows` rows of `input` in, `rows × resultSize` values written to `output`.
    public typealias Compute = @Sendable (
        _ input: UnsafeBufferPointer<Float>, _ rows: Int, _ output: UnsafeMutableBufferPointer<Float>, _ instance: Int
    ) throws -> Void

    /// Where a batch that a submission forms may run.
    public enum Placement: Sendable {
        /// Always on the compute queue: the caller's thread must not wait (a connection's queue
        /// while the server is busy).
        case computeQueue
        /// On the submitting thread when nothing else computes or waits (an idle server: one
        /// request, no hand-off to another thread and back), else on the compute queue. For
        /// connection queues: a single batch keeps a connection's loop for one forward pass at most.
        case callerWhenIdle
        /// On the submitting thread whenever an instance is idle; the submitter already runs on
        /// the compute queue.
        case caller
        /// On `loop`, the submitter's own loop (a connection's), after the work it runs now:
        /// the batch gathers every request that arrived in the same wake-up and runs with no
        /// hand-off to another thread and back. Only while 8 rows or more fit
        /// `Settings.loopBudgetSeconds` (measured as the model runs), or while the batcher is
        /// idle and the request fits it; slower models under load, and batches with a queue
        /// delay to wait for, go to the compute queue.
        case afterCurrentWork(any LoopScheduler)
    }

    private struct Pending {
        var rows: Int
        var write: RowWriter
        var enqueued: DispatchTime
        var completion: Completion
    }

    public let settings: Settings
    /// Floats per input row and per result row.
    public let rowSize: Int
    public let resultSize: Int
    private let compute: Compute
    private let onBatch: @Sendable (BatchReport) -> Void
    private let computeQueue: DispatchQueue
    /// Fires the max-queue-delay flushes.
    private let timers: DispatchQueue
    /// Each instance's input and output, `maxBatchSize` rows each; only the batch holding the
    /// instance touches them.
    private let inputs: [UnsafeMutableBufferPointer<Float>]
    private let outputs: [UnsafeMutableBufferPointer<Float>]
    /// Guards everything below. Requests enqueue under it on their own thread: no hop to a
    /// batcher thread stands between a request and its compute.
    private let lock = NSLock()
    private var pending: [Pending] = []
    private var pendingRows = 0
    /// Instances not computing a batch.
    private var idleInstances: [Int]
    private var flushScheduled = false
    /// A drain is queued on some connection's loop; it takes what is pending when it runs.
    private var drainScheduled = false
    /// Seconds one row takes to write and compute, a moving average over batches; nil until
    /// the first batch has run.
    private var secondsPerRow: Double?
    private var closed = false

    /// - Parameters:
    ///   - rowSize: floats in one input row; `resultSize`: in one result row.
    ///   - computeQueue: where batches run; never a connection's queue.
    ///   - onBatch: called after each batch, on the thread that ran it, before its requests are answered.
    public init(
        label: String, settings: Settings, rowSize: Int, resultSize: Int, computeQueue: DispatchQueue,
        onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }, compute: @escaping Compute
    ) {
        precondition(rowSize > 0 && resultSize > 0, "rows and results need at least one value")
        self.settings = settings
        self.rowSize = rowSize
        self.resultSize = resultSize
        self.compute = compute
        self.onBatch = onBatch
        self.computeQueue = computeQueue
        self.timers = DispatchQueue(label: "fixserve.batcher.\(label)")
        self.idleInstances = Array((0..<settings.instances).reversed())
        func buffers(_ size: Int) -> [UnsafeMutableBufferPointer<Float>] {
            (0..<settings.instances).map { _ in
                let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: settings.maxBatchSize * size)
                buffer.initialize(repeating: 0)
                return buffer
            }
        }
        inputs = buffers(rowSize)
        outputs = buffers(resultSize)
    }

    deinit {
        inputs.forEach { $0.deallocate() }
        outputs.forEach { $0.deallocate() }
    }

    /// The number of rows waiting (not yet computing).
    public var queueDepth: Int { lock.withLock { pendingRows } }

    /// Submits one request of `rows` rows, written by `write` once its batch is taken;
    /// `completion` gets their results or `BatcherError.batchTooLarge` (the request alone
    /// exceeds the maximum batch size), `.queueFull`, `.closed` after `close()`, or what `write`
    /// or the compute threw.
    public func submit(rows: Int, placement: Placement = .computeQueue, write: @escaping RowWriter,
                       completion: @escaping Completion) {
        guard rows > 0 else { return completion(.failure(BatcherError.empty)) }
        guard rows <= settings.maxBatchSize else {
            return completion(.failure(BatcherError.batchTooLarge(rows: rows, maxBatchSize: settings.maxBatchSize)))
        }
        enqueue(Pending(rows: rows, write: write, enqueued: .now(), completion: completion), placement: placement)
    }

    /// Submits rows already in memory and waits for a copy of their results: for callers
    /// outside the request path (benchmarks, tests).
    public func submit(_ rows: [[Float]]) async throws -> [[Float]] {
        let size = rowSize
        return try await withCheckedThrowingContinuation { continuation in
            submit(rows: rows.count, write: { buffer in
                for (i, row) in rows.enumerated() {
                    guard row.count == size else { throw BatcherError.rowSizeMismatch(expected: size, actual: row.count) }
                    _ = UnsafeMutableBufferPointer(rebasing: buffer[i * size..<(i + 1) * size]).initialize(from: row)
                }
            }) { result in
                continuation.resume(with: result.map { answer in (0..<answer.rows).map { Array(answer.row($0)) } })
            }
        }
    }

    /// Refuses new requests; those already queued still run.
    public func close() {
        lock.withLock { closed = true }
    }

    // MARK: - Scheduling

    private func enqueue(_ request: Pending, placement: Placement) {
        lock.lock()
        if closed {
            lock.unlock()
            return request.completion(.failure(BatcherError.closed))
        }
        if pendingRows + request.rows > settings.maxQueueSize {
            let queued = pendingRows
            lock.unlock()
            return request.completion(.failure(BatcherError.queueFull(queued: queued, maxQueueSize: settings.maxQueueSize)))
        }
        let idle = idleInstances.count == settings.instances && pending.isEmpty
        pending.append(request)
        pendingRows += request.rows
        var batch: Batch?
        var drainLoop: (any LoopScheduler)?
        if case .afterCurrentWork(let loop) = placement, settings.maxQueueDelayMicroseconds == 0,
           batchesFitLoops || (idle && request.rows <= rowsWithinLoopBudget) {
            // A running batch's end takes what is pending; otherwise one drain on this loop does.
            if !idleInstances.isEmpty && !drainScheduled {
                drainScheduled = true
                drainLoop = loop
            }
        } else if idleInstances.isEmpty {
            // A running batch's completion forms the next one.
        } else if pendingRows >= settings.maxBatchSize || settings.maxQueueDelayMicroseconds == 0 {
            batch = takeBatch()
        } else if !flushScheduled {
            flushScheduled = true
            timers.asyncAfter(deadline: .now() + .microseconds(settings.maxQueueDelayMicroseconds)) { self.flush() }
        }
        lock.unlock()
        if let drainLoop { drainLoop.afterCurrentWork { self.drain(on: drainLoop) } }
        guard let batch else { return }
        switch placement {
        case .caller: run(batch)
        case .callerWhenIdle where idle: runOnce(batch)
        default: computeQueue.async { self.run(batch) }
        }
    }

    /// The most rows a batch on a connection's loop may take: as many as fit the loop budget
    /// (0 until the model has run). Called under the lock.
    private var rowsWithinLoopBudget: Int {
        guard let secondsPerRow else { return 0 }
        return min(settings.maxBatchSize, Int(settings.loopBudgetSeconds / max(secondsPerRow, 1e-9)))
    }

    /// Whether a loop keeps running batches while requests wait: when 8 rows or more fit its
    /// budget. A slower model under load batches better on the compute queue, where a batch may
    /// grow to the maximum; idle, it still runs a lone request on the loop, which spares two
    /// thread hand-offs. Called under the lock.
    private var batchesFitLoops: Bool {
        rowsWithinLoopBudget >= min(8, settings.maxBatchSize)
    }

    /// Runs one batch of what is pending on this thread (a connection's loop), then hands the
    /// loop the next drain, or the rest to the compute queue when batches no longer fit the loop.
    private func drain(on loop: any LoopScheduler) {
        var overBudget: Batch?
        let batch: Batch? = lock.withLock {
            drainScheduled = false
            guard !idleInstances.isEmpty, !pending.isEmpty else { return nil }
            let rows = rowsWithinLoopBudget
            guard rows > 0 else {
                // The model slowed down since the drain was handed on: the compute queue takes it.
                overBudget = takeBatch()
                return nil
            }
            return takeBatch(maxRows: rows)
        }
        if let overBudget { computeQueue.async { self.run(overBudget) } }
        guard let batch else { return }
        execute(batch)
        var again = false
        let next: Batch? = lock.withLock {
            idleInstances.append(batch.instance)
            guard !pending.isEmpty, !drainScheduled else { return nil }
            if batchesFitLoops {
                drainScheduled = true
                again = true
                return nil
            }
            return takeBatch()
        }
        if again { loop.afterCurrentWork { self.drain(on: loop) } }
        if let next { computeQueue.async { self.run(next) } }
    }

    private func flush() {
        let batch: Batch? = lock.withLock {
            flushScheduled = false
            return !idleInstances.isEmpty && !pending.isEmpty ? takeBatch() : nil
        }
        if let batch { computeQueue.async { self.run(batch) } }
    }

    private struct Batch {
        var requests: [Pending]
        var instance: Int
        var started: DispatchTime
    }

    /// The oldest whole requests that fit one batch (at most `maxRows` rows, but at least the
    /// first request), on an idle instance. Called under the lock.
    private func takeBatch(maxRows: Int? = nil) -> Batch {
        let limit = min(settings.maxBatchSize, maxRows ?? settings.maxBatchSize)
        var count = 0
        var rows = 0
        while count < pending.count, rows + pending[count].rows <= limit || count == 0 {
            rows += pending[count].rows
            count += 1
        }
        let taken = Array(pending.prefix(count))
        pending.removeFirst(count)
        pendingRows -= rows
        return Batch(requests: taken, instance: idleInstances.removeLast(), started: .now())
    }

    /// Computes batches on one instance until none is waiting.
    private func run(_ first: Batch) {
        var next: Batch? = first
        while let batch = next {
            execute(batch)
            // Requests that gathered during the compute have waited long enough already: the
            // next batch runs on this thread at once.
            next = lock.withLock {
                idleInstances.append(batch.instance)
                return pending.isEmpty ? nil : takeBatch()
            }
        }
    }

    /// Computes `batch` on this thread; what gathered meanwhile goes to the compute queue, so
    /// the caller's thread is back after one batch.
    private func runOnce(_ batch: Batch) {
        execute(batch)
        let next: Batch? = lock.withLock {
            idleInstances.append(batch.instance)
            return pending.isEmpty ? nil : takeBatch()
        }
        if let next { computeQueue.async { self.run(next) } }
    }

    private func execute(_ batch: Batch) {
        // Timed from here, not from when the batch was taken: the hand-off to a compute thread
        // is not the model's cost, and on a loaded machine it would keep a fast model off the loop.
        let executeStart = DispatchTime.now()
        let input = inputs[batch.instance], output = outputs[batch.instance]
        // Each request writes its rows after the previous one's; one that fails is answered
        // now and leaves no gap.
        var written: [(request: Pending, offset: Int, nanoseconds: UInt64)] = []
        written.reserveCapacity(batch.requests.count)
        var rows = 0
        for request in batch.requests {
            let start = DispatchTime.now()
            do {
                try request.write(UnsafeMutableBufferPointer(rebasing: input[rows * rowSize..<(rows + request.rows) * rowSize]))
                written.append((request, rows, start.nanoseconds()))
                rows += request.rows
            } catch {
                request.completion(.failure(error))
            }
        }
        guard rows > 0 else { return }
        let computeStart = DispatchTime.now()
        let outcome = Swift.Result {
            try compute(UnsafeBufferPointer(rebasing: input[0..<rows * rowSize]), rows,
                        UnsafeMutableBufferPointer(rebasing: output[0..<rows * resultSize]), batch.instance)
        }
        let perRow = Double(executeStart.nanoseconds()) / 1e9 / Double(rows)
        lock.withLock { secondsPerRow = secondsPerRow.map { 0.8 * $0 + 0.2 * perRow } ?? perRow }
        // Recorded before anyone is answered: a client that reads the statistics right after its
        // answer must find its batch counted.
        onBatch(BatchReport(
            rows: rows, requests: written.count,
            queueSeconds: written.map { Double($0.request.enqueued.nanoseconds(until: batch.started)) / 1e9 },
            computeSeconds: Double(computeStart.nanoseconds()) / 1e9))
        switch outcome {
        case .success:
            let results = UnsafeBufferPointer(output)
            for (request, offset, nanoseconds) in written {
                request.completion(.success(Answer(
                    results: UnsafeBufferPointer(rebasing: results[offset * resultSize..<(offset + request.rows) * resultSize]),
                    rows: request.rows, resultSize: resultSize, preparationNanoseconds: nanoseconds)))
            }
        case .failure(let error):
            written.forEach { $0.request.completion(.failure(error)) }
        }
    }
}

/// Why the batcher refused or failed a request.
public enum BatcherError: Error, Equatable, CustomStringConvertible {
    case empty
    case batchTooLarge(rows: Int, maxBatchSize: Int)
    case queueFull(queued: Int, maxQueueSize: Int)
    case closed
    case rowSizeMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .empty:
            return "the input holds no samples (batch size 0)"
        case let .batchTooLarge(rows, max):
            return "the request holds \(rows) inputs, more than the model's maximum batch size \(max)"
        case let .queueFull(queued, max):
            return "the model's queue is full (\(queued) of \(max) inputs waiting); retry later"
        case .closed: return "the model is being unloaded"
        case let .rowSizeMismatch(expected, actual):
            return "an input row holds \(actual) values; the model takes \(expected)"
        }
    }
}
