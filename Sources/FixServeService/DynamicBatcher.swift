import Dispatch
import Foundation

/// Gathers concurrent requests for one model into batched forward passes, like Triton's dynamic
/// batcher.
///
/// A request adds its rows under a lock and waits for its own results. When a model instance is
/// idle, the oldest whole requests (at most `maxBatchSize` rows) form a batch that runs on the
/// compute queue (at most `instances` batches at once), and each request gets the rows that are
/// its own. While a batch is computing, new requests gather; when it ends, the same thread runs
/// the next batch from them at once. A failing batch fails only its own requests.
public final class DynamicBatcher<Row: Sendable, Result: Sendable>: @unchecked Sendable {
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

        public init(maxBatchSize: Int = 64, maxQueueDelayMicroseconds: Int = 0, maxQueueSize: Int = 1024, instances: Int = 1) {
            self.maxBatchSize = maxBatchSize
            self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
            self.maxQueueSize = maxQueueSize
            self.instances = max(1, instances)
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

    /// Runs one batch on model instance `instance` (0 ..< `instances`; no two batches share one):
    /// rows in, one result per row out, same order.
    public typealias Compute = @Sendable (_ rows: [Row], _ instance: Int) throws -> [Result]

    /// How a request hears of its rows' results (or why there are none); called once, on the
    /// compute queue or on the submitting thread when the request is refused.
    public typealias Completion = @Sendable (Swift.Result<[Result], Error>) -> Void

    private struct Pending {
        var rows: [Row]
        var enqueued: DispatchTime
        var completion: Completion
    }

    public let settings: Settings
    private let compute: Compute
    private let onBatch: @Sendable (BatchReport) -> Void
    private let computeQueue: DispatchQueue
    /// Fires the max-queue-delay flushes.
    private let timers: DispatchQueue
    /// Guards everything below. Requests enqueue under it on their own thread: no hop to a
    /// batcher thread stands between a request and its compute.
    private let lock = NSLock()
    private var pending: [Pending] = []
    private var pendingRows = 0
    /// Instances not computing a batch.
    private var idleInstances: [Int]
    private var flushScheduled = false
    private var closed = false

    /// - Parameters:
    ///   - computeQueue: where batches run; never a connection's queue.
    ///   - onBatch: called after each batch, on the compute queue, before its requests are answered.
    public init(
        label: String, settings: Settings, computeQueue: DispatchQueue,
        onBatch: @escaping @Sendable (BatchReport) -> Void = { _ in }, compute: @escaping Compute
    ) {
        self.settings = settings
        self.compute = compute
        self.onBatch = onBatch
        self.computeQueue = computeQueue
        self.timers = DispatchQueue(label: "fixserve.batcher.\(label)")
        self.idleInstances = Array((0..<settings.instances).reversed())
    }

    /// The number of rows waiting (not yet computing).
    public var queueDepth: Int { lock.withLock { pendingRows } }

    /// Submits the rows of one request and waits for their results.
    ///
    /// - Throws: `BatcherError.batchTooLarge` when the request alone exceeds the maximum batch size,
    ///   `.queueFull` when the queue cannot take it, `.closed` after `close()`, or what the compute threw.
    public func submit(_ rows: [Row]) async throws -> [Result] {
        try await withCheckedThrowingContinuation { continuation in
            submit(rows) { continuation.resume(with: $0) }
        }
    }

    /// Submits the rows of one request; `completion` gets their results, or the error `submit`
    /// would throw. For callers that answer from a callback rather than a task.
    public func submit(_ rows: [Row], completion: @escaping Completion) {
        guard !rows.isEmpty else { return completion(.success([])) }
        guard rows.count <= settings.maxBatchSize else {
            return completion(.failure(BatcherError.batchTooLarge(rows: rows.count, maxBatchSize: settings.maxBatchSize)))
        }
        enqueue(Pending(rows: rows, enqueued: .now(), completion: completion))
    }

    /// Refuses new requests; those already queued still run.
    public func close() {
        lock.withLock { closed = true }
    }

    // MARK: - Scheduling

    private func enqueue(_ request: Pending) {
        lock.lock()
        if closed {
            lock.unlock()
            return request.completion(.failure(BatcherError.closed))
        }
        if pendingRows + request.rows.count > settings.maxQueueSize {
            let queued = pendingRows
            lock.unlock()
            return request.completion(.failure(BatcherError.queueFull(queued: queued, maxQueueSize: settings.maxQueueSize)))
        }
        pending.append(request)
        pendingRows += request.rows.count
        var batch: Batch?
        if idleInstances.isEmpty {
            // A running batch's completion forms the next one.
        } else if pendingRows >= settings.maxBatchSize || settings.maxQueueDelayMicroseconds == 0 {
            batch = takeBatch()
        } else if !flushScheduled {
            flushScheduled = true
            timers.asyncAfter(deadline: .now() + .microseconds(settings.maxQueueDelayMicroseconds)) { self.flush() }
        }
        lock.unlock()
        if let batch { computeQueue.async { self.run(batch) } }
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

    /// The oldest whole requests that fit one batch, on an idle instance. Called under the lock.
    private func takeBatch() -> Batch {
        var count = 0
        var rows = 0
        while count < pending.count, rows + pending[count].rows.count <= settings.maxBatchSize {
            rows += pending[count].rows.count
            count += 1
        }
        let taken = Array(pending.prefix(count))
        pending.removeFirst(count)
        pendingRows -= rows
        return Batch(requests: taken, instance: idleInstances.removeLast(), started: .now())
    }

    /// Computes batches on one instance until none is waiting; runs on the compute queue.
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

    private func execute(_ batch: Batch) {
        let taken = batch.requests
        let batchRows = taken.count == 1 ? taken[0].rows : taken.flatMap(\.rows)
        let computeStart = DispatchTime.now()
        let outcome = Swift.Result { try self.compute(batchRows, batch.instance) }
        let computeSeconds = seconds(from: computeStart, to: .now())
        // Recorded before anyone is answered: a client that reads the statistics right after its
        // answer must find its batch counted.
        onBatch(BatchReport(
            rows: batchRows.count, requests: taken.count,
            queueSeconds: taken.map { seconds(from: $0.enqueued, to: batch.started) },
            computeSeconds: computeSeconds))
        switch outcome {
        case .success(let results) where results.count == batchRows.count:
            var offset = 0
            for request in taken {
                request.completion(.success(Array(results[offset..<offset + request.rows.count])))
                offset += request.rows.count
            }
        case .success(let results):
            let error = BatcherError.resultCountMismatch(expected: batchRows.count, actual: results.count)
            taken.forEach { $0.completion(.failure(error)) }
        case .failure(let error):
            taken.forEach { $0.completion(.failure(error)) }
        }
    }
}

/// Why the batcher refused or failed a request.
public enum BatcherError: Error, Equatable, CustomStringConvertible {
    case batchTooLarge(rows: Int, maxBatchSize: Int)
    case queueFull(queued: Int, maxQueueSize: Int)
    case closed
    case resultCountMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case let .batchTooLarge(rows, max):
            return "the request holds \(rows) inputs, more than the model's maximum batch size \(max)"
        case let .queueFull(queued, max):
            return "the model's queue is full (\(queued) of \(max) inputs waiting); retry later"
        case .closed: return "the model is being unloaded"
        case let .resultCountMismatch(expected, actual):
            return "the model returned \(actual) results for \(expected) inputs"
        }
    }
}

private func seconds(from start: DispatchTime, to end: DispatchTime) -> Double {
    Double(end.uptimeNanoseconds &- start.uptimeNanoseconds) / 1e9
}
