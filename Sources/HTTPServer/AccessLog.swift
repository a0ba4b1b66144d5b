#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization

/// The server's access log: one line per finished request (time, method, path, status, bytes,
/// duration, protocol, peer).
///
/// A request's line is formatted on its connection's thread into a bounded in-memory buffer,
/// and a background queue writes the buffer out every `flushInterval` seconds. Nothing on the
/// request path waits for the sink: when it falls behind and the buffer is full, further lines
/// are dropped and counted (`droppedLines`, exported by the service in /metrics) instead of
/// slowing requests down.
public final class AccessLog: @unchecked Sendable {
    /// Lines handed to the sink so far.
    public var writtenLines: Int { state.withLock { $0.written } }
    /// Lines dropped because the buffer was full.
    public var droppedLines: Int { state.withLock { $0.dropped } }

    private struct State {
        var pending: [UInt8] = []
        var pendingLines = 0
        var written = 0
        var dropped = 0
        /// The second `prefix` was formatted for, and its "YYYY-MM-DDTHH:MM:SS" text.
        var second = -1
        var prefix: [UInt8] = []
    }

    private let state = Mutex(State())
    private let capacity: Int
    private let descriptor: Int32
    private let queue = DispatchQueue(label: "fixserve.http.access-log", qos: .utility)
    private let timer: DispatchSourceTimer
    /// Serialises writers of the sink: the timer and `flush()`.
    private let writing = Mutex(())

    /// - Parameters:
    ///   - descriptor: where lines go (standard error by default, where the rest of the log goes).
    ///   - capacity: bytes the buffer holds before lines are dropped (1 MiB: some 10,000 lines).
    ///   - flushInterval: seconds between writes.
    public init(descriptor: Int32 = STDERR_FILENO, capacity: Int = 1 << 20, flushInterval: Double = 0.05) {
        self.descriptor = descriptor
        self.capacity = capacity
        timer = DispatchSource.makeTimerSource(queue: queue)
        timer.schedule(deadline: .now() + flushInterval, repeating: flushInterval, leeway: .milliseconds(10))
        timer.setEventHandler { [weak self] in self?.flush() }
        timer.resume()
    }

    deinit {
        timer.cancel()
        flush()
    }

    /// Appends one request's line, or counts it as dropped when the buffer is full.
    func record(method: String, path: String, status: Int, bytes: Int, nanoseconds: UInt64, version: HTTPVersion, remote: String) {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int(time.tv_sec), millisecond = Int(time.tv_nsec) / 1_000_000
        // Method and path are bounded by the header limits; 160 bytes cover the rest. The line is
        // formatted on the stack, outside the lock, so the lock is held for one copy only.
        let bound = method.utf8.count + path.utf8.count + remote.utf8.count + 160
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var line = LineFormatter(buffer)
            // The second's "YYYY-MM-DDTHH:MM:SS", shared by the lines of a second, goes in under the lock.
            line.put(UInt8(ascii: "."))
            line.put(millisecond, width: 3)
            line.put("Z info fixserve : ")
            line.put(method)
            line.put(UInt8(ascii: " "))
            line.put(path)
            line.put(UInt8(ascii: " "))
            line.put(status)
            line.put(" bytes=")
            line.put(bytes)
            line.put(" duration_ms=")
            let micro = Int(nanoseconds / 1000)
            line.put(micro / 1000)
            line.put(UInt8(ascii: "."))
            line.put(micro % 1000, width: 3)
            line.put(" protocol=")
            line.put(version.rawValue)
            line.put(" remote=")
            line.put(remote)
            line.put(UInt8(ascii: "\n"))
            let formatted = UnsafeBufferPointer(rebasing: buffer[..<line.count])
            state.withLock { state in
                guard state.pending.count + Self.timestampLength + formatted.count <= capacity else {
                    state.dropped += 1
                    return
                }
                if state.second != second { state.prefix = Self.timestamp(second); state.second = second }
                if state.pending.capacity == 0 { state.pending.reserveCapacity(min(capacity, 64 << 10)) }
                state.pending.append(contentsOf: state.prefix)
                state.pending.append(contentsOf: formatted)
                state.pendingLines += 1
            }
        }
    }

    private static var timestampLength: Int { 19 }

    /// Writes what is buffered now. The timer calls it; tests and shutdown may too.
    public func flush() {
        writing.withLock { _ in
            let (bytes, lines) = state.withLock { state -> ([UInt8], Int) in
                defer { state.pending = []; state.pendingLines = 0 }
                return (state.pending, state.pendingLines)
            }
            guard !bytes.isEmpty else { return }
            bytes.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let n = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                    if n < 0 && errno == EINTR { continue }
                    guard n > 0 else { break }
                    offset += n
                }
            }
            state.withLock { $0.written += lines }
        }
    }

    /// "YYYY-MM-DDTHH:MM:SS" of a Unix time, UTC.
    private static func timestamp(_ second: Int) -> [UInt8] {
        var t = time_t(second), parts = tm()
        gmtime_r(&t, &parts)
        // Room beyond the 19 bytes for a year past 9999.
        return [UInt8](unsafeUninitializedCapacity: timestampLength + 8) { buffer, initialized in
            var text = LineFormatter(buffer)
            text.put(Int(parts.tm_year) + 1900, width: 4)
            text.put(UInt8(ascii: "-"))
            text.put(Int(parts.tm_mon) + 1, width: 2)
            text.put(UInt8(ascii: "-"))
            text.put(Int(parts.tm_mday), width: 2)
            text.put(UInt8(ascii: "T"))
            text.put(Int(parts.tm_hour), width: 2)
            text.put(UInt8(ascii: ":"))
            text.put(Int(parts.tm_min), width: 2)
            text.put(UInt8(ascii: ":"))
            text.put(Int(parts.tm_sec), width: 2)
            initialized = text.count
        }
    }
}

/// Writes a line into a buffer sized for it in advance: bytes, text and decimal numbers.
private struct LineFormatter {
    private let buffer: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) { self.buffer = buffer }

    mutating func put(_ byte: UInt8) {
        buffer[count] = byte
        count += 1
    }

    mutating func put(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
            (buffer.baseAddress! + count).update(from: source, count: bytes.count)
            count += bytes.count
        }
    }

    /// The decimal digits of a non-negative `value`, zero-padded to `width`.
    mutating func put(_ value: Int, width: Int = 1) {
        var digits = 1, rest = max(0, value)
        while rest >= 10 { rest /= 10; digits += 1 }
        let length = max(digits, width)
        rest = max(0, value)
        for position in stride(from: count + length - 1, through: count, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
        count += length
    }
}
