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

    func recordSuccess(total: DispatchTimeInterval, preprocessing: DispatchTimeInterval) {
        lock.withLock {
            state.successCount += 1
            state.successNanoseconds += total.nanoseconds
            state.preprocessNanoseconds += preprocessing.nanoseconds
            state.lastInferenceMilliseconds = UInt64(Date().timeIntervalSince1970 * 1000)
        }
    }

    func recordFailure(total: DispatchTimeInterval) {
        lock.withLock {
            state.failureCount += 1
            state.failureNanoseconds += total.nanoseconds
        }
    }

    func recordBatch(_ report: DynamicBatcher<[Float], [Float]>.BatchReport) {
        lock.withLock {
            state.executionCount += 1
            state.inferenceCount += UInt64(report.rows)
            state.computeNanoseconds += UInt64(report.computeSeconds * 1e9)
            state.queueNanoseconds += UInt64(report.queueSeconds.reduce(0, +) * 1e9)
            state.batchSizes[report.rows, default: 0] += 1
        }
    }
}

extension DispatchTimeInterval {
    var nanoseconds: UInt64 {
        switch self {
        case .seconds(let s): return UInt64(max(0, s)) * 1_000_000_000
        case .milliseconds(let ms): return UInt64(max(0, ms)) * 1_000_000
        case .microseconds(let us): return UInt64(max(0, us)) * 1_000
        case .nanoseconds(let ns): return UInt64(max(0, ns))
        case .never: return 0
        @unknown default: return 0
        }
    }
}
