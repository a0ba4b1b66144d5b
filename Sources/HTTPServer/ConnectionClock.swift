/// The timing side of a connection's lifecycle, as plain state that returns decisions and does
/// no I/O: when the request head started, when bytes last moved, when a lingering close began.
/// Times are monotonic nanoseconds (`DispatchTime.uptimeNanoseconds`).
struct ConnectionClock {
    /// What a timer tick should do.
    enum Decision: Equatable {
        case keepOpen
        /// The request head (or TLS handshake, or HTTP/2 preface) took too long: close at once.
        case headerTimeout
        /// Nothing owed to the client and nothing moved for the idle timeout: close politely.
        case idleTimeout
        /// The lingering close has drained long enough: close now.
        case lingerFinished
    }

    let headerReadTimeout: UInt64
    let idleTimeout: UInt64
    let lingerDuration: UInt64

    private(set) var lastActivity: UInt64
    private(set) var headerStartedAt: UInt64?
    private(set) var lingeringSince: UInt64?

    /// A connection accepted at `now`; the clock for the first request head starts at once.
    init(now: UInt64, headerReadTimeout: Double, idleTimeout: Double, lingerDuration: Double) {
        self.headerReadTimeout = ConnectionClock.nanoseconds(headerReadTimeout)
        self.idleTimeout = ConnectionClock.nanoseconds(idleTimeout)
        self.lingerDuration = ConnectionClock.nanoseconds(lingerDuration)
        lastActivity = now
        headerStartedAt = now
    }

    var isLingering: Bool { lingeringSince != nil }

    mutating func recordActivity(at now: UInt64) {
        lastActivity = now
    }

    /// A request head started (keeps an earlier start) or finished.
    mutating func setReadingHeaders(_ reading: Bool, at now: UInt64) {
        headerStartedAt = reading ? (headerStartedAt ?? now) : nil
    }

    mutating func beginLingering(at now: UInt64) {
        lingeringSince = lingeringSince ?? now
    }

    /// - Parameters:
    ///   - isIdle: nothing is owed to the client (see `ConnectionHandler.isIdle`).
    ///   - hasPendingOutput: bytes are still waiting for the socket.
    func decide(at now: UInt64, isIdle: Bool, hasPendingOutput: Bool) -> Decision {
        if let since = lingeringSince {
            return now &- since > lingerDuration ? .lingerFinished : .keepOpen
        }
        if let started = headerStartedAt, now &- started > headerReadTimeout {
            return .headerTimeout
        }
        if isIdle, !hasPendingOutput, now &- lastActivity > idleTimeout {
            return .idleTimeout
        }
        return .keepOpen
    }

    private static func nanoseconds(_ seconds: Double) -> UInt64 {
        UInt64(max(0, min(seconds, 1e9)) * 1e9)
    }
}
