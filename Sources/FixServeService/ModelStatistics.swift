import Dispatch
import Foundation

/// Per-version counters for Triton's statistics extension (`GET /v2/models/{name}/stats`).
public final class ModelStatistics: @unchecked Sendable {
    public struct Snapshot: Sendable {
        public var successCount: UInt64 = 0
        public var successNanoseconds: UInt64 = 0
        public var failureCount: UInt64 = 0
        public var failureNanoseconds: UInt64 = 0
        public var queueNanoseconds: UInt64 = 0
        public var preprocessNanoseconds: UInt64 = 0
        public var computeNanoseconds: UInt64 = 0
        /// Inputs inferred.
        public var inferenceCount: UInt64 = 0
        /// Batched forward passes.
        public var executionCount: UInt64 = 0
        /// Forward passes by batch size.
        public var batchSizes: [Int: UInt64] = [:]
        /// Milliseconds since 1970 of the last inference, 0 before the first.
        public var lastInferenceMilliseconds: UInt64 = 0
    }

    private let lock = NSLock()
    private var state = Snapshot()

    public init() {}

    public func snapshot() -> Snapshot { lock.withLock { state } }

    func recordSuccess(totalNanoseconds: UInt64, preprocessingNanoseconds: UInt64) {
        lock.withLock {
            state.successCount += 1
            state.successNanoseconds += totalNanoseconds
            state.preprocessNanoseconds += preprocessingNanoseconds
            state.lastInferenceMilliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        }
    }

    func recordFailure(totalNanoseconds: UInt64) {
        lock.withLock {
            state.failureCount += 1
            state.failureNanoseconds += totalNanoseconds
        }
    }

    func recordBatch(_ report: DynamicBatcher.BatchReport) {
        lock.withLock {
            state.executionCount += 1
            state.inferenceCount += UInt64(report.rows)
            state.computeNanoseconds += UInt64(report.computeSeconds * 1e9)
            state.queueNanoseconds += UInt64(report.queueSeconds.reduce(0, +) * 1e9)
            state.batchSizes[report.rows, default: 0] += 1
        }
    }
}

extension DispatchTime {
    /// Nanoseconds from this time to `end`.
    func nanoseconds(until end: DispatchTime = .now()) -> UInt64 {
        end.uptimeNanoseconds &- uptimeNanoseconds
    }
}
