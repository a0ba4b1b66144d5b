import Dispatch
import Glibc
import Logging
import TLS

/// One accepted socket: non-blocking I/O driven by its `EventLoop` (whose serial queue it runs
/// on), optional TLS, protocol selection, output buffering with back-pressure, and the
/// connection's timeouts. The protocol session behind it (`ConnectionHandler`) never touches
/// the socket.
final class Connection {
    let id: Int
    let remoteAddress: String
    let loop: EventLoop
    /// The loop's queue: everything the connection does runs there.
    var queue: DispatchQueue { loop.queue }
    let context: ServerContext

    private let descriptor: Int32
    /// What the loop watches the socket for; errors and hang-ups always.
    private var interest: EventLoop.Interest = []
    private var tls: TLSConnection?
    private(set) var handler: ConnectionHandler?

    private var prefaceBytes: [UInt8] = []
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var plaintext: [UInt8] = []

    private var readPausedByHandler = false
    private var closeWhenFlushed = false
    private var lingeringDiscarded = 0
    private var pendingPlaintext: [UInt8] = []
    private(set) var isClosed = false
    private var isShuttingDown = false
    private var pumpScheduled = false
    // True while a read event is handled; it ends with a pump, so scheduling one is unneeded.
    private var pumpFollows = false

    private var clock: ConnectionClock
    /// When the bytes being handled were read (monotonic nanoseconds); request start times for
    /// the access log come from here instead of a clock read per request.
    private(set) var receivedAt: UInt64

    // Past this much unsent output the connection stops reading and stops asking the session for more.
    private static let outputHighWater = 1024 * 1024

    static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    init(id: Int, descriptor: Int32, remoteAddress: String, context: ServerContext) throws {
        self.id = id
        self.descriptor = descriptor
        self.remoteAddress = remoteAddress
        self.context = context
        loop = context.loop(for: id)
        let limits = context.limits
        receivedAt = DispatchTime.now().uptimeNanoseconds
        clock = ConnectionClock(now: receivedAt, headerReadTimeout: limits.headerReadTimeout,
                                idleTimeout: limits.idleTimeout, lingerDuration: Connection.lingerSeconds)
        if let tlsContext = context.tlsContext {
            tls = try TLSConnection(context: tlsContext)
        }
    }

    /// Starts reading; call once, on `queue`.
    func start() {
        interest = .readable
        guard loop.register(self, descriptor: descriptor, interest: interest) else {
            context.logger.debug("cannot watch the socket", metadata: ["remote": "\(remoteAddress)", "errno": "\(errno)"])
            isClosed = true
            _ = Glibc.close(descriptor)
            context.connectionDidClose?(self)
            return
        }
    }

    // MARK: Interface for protocol sessions

    /// Queues plaintext for the peer (encrypted first when TLS is on). Call `pump()` afterwards
    /// unless inside `produceOutput` or `receive`, which the connection follows with a pump.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, !clock.isLingering, bytes.count > 0 else { return }
        if tls != nil {
            // Encrypted in one go by `encryptPending`, so many small frames share TLS records.
            pendingPlaintext.append(contentsOf: bytes)
        } else {
            outbound.append(contentsOf: bytes)
        }
    }

    /// Turns buffered plaintext into TLS records. Returns false if the connection closed.
    private func encryptPending() -> Bool {
        guard let tls, !pendingPlaintext.isEmpty else { return true }
        do {
            try pendingPlaintext.withUnsafeBytes { try tls.writePlaintext($0) }
            tls.takeCiphertext(appendingTo: &outbound)
            pendingPlaintext.removeAll(keepingCapacity: pendingPlaintext.capacity <= Connection.outputHighWater)
            return true
        } catch {
            context.logger.debug("TLS write failed", metadata: ["remote": "\(remoteAddress)", "error": "\(error)"])
            close()
            return false
        }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// True while the connection wants more output from the session.
    var hasOutputRoom: Bool {
        outbound.count - outboundOffset + pendingPlaintext.count < Connection.outputHighWater
    }

    /// Stops or restarts reading on behalf of the session (for example, while pipelined
    /// requests wait for their turn).
    func setReadingPaused(_ paused: Bool) {
        readPausedByHandler = paused
        updateInterest()
    }

    /// Marks the start (true) or end (false) of a request head for the header-read timeout.
    func setReadingHeaders(_ reading: Bool) {
        // The head started when the bytes carrying its start were read.
        clock.setReadingHeaders(reading, at: receivedAt)
    }

    /// Closes the socket once all queued output is written.
    func closeAfterFlush() {
        closeWhenFlushed = true
    }

    /// Replaces the session (HTTP/1.1 upgraded to h2c).
    func replaceHandler(_ newHandler: ConnectionHandler) {
        handler = newHandler
    }

    /// Runs `pump()` once at the end of the loop's turn, so responses that complete together
    /// leave in one write.
    func schedulePump() {
        guard !pumpScheduled, !pumpFollows else { return }
        pumpScheduled = true
        loop.afterCurrentWork { [self] in
            pumpScheduled = false
            pump()
        }
    }

    /// Writes queued output, asks the session for more while there is room, and updates what
    /// the loop watches the socket for. Safe to call at any time on the queue.
    func pump() {
        guard !isClosed else { return }
        for _ in 0..<64 {
            if hasOutputRoom, let handler { handler.produceOutput() }
            if isClosed { return }
            guard encryptPending() else { return }
            let pendingBefore = outbound.count - outboundOffset
            if pendingBefore == 0 { break }
            guard flushSocket() else { return }
            if outbound.count - outboundOffset > 0 { break }
        }
        let pending = outbound.count - outboundOffset
        if pending == 0, closeWhenFlushed, !clock.isLingering {
            beginLingeringClose()
            return
        }
        updateInterest()
    }

    /// Closes the socket now; in-flight work is cancelled.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        tls = nil
        loop.deregister(self, descriptor: descriptor)
        _ = Glibc.close(descriptor)
        handler?.connectionClosed()
        // After the blocks already queued, which may still ask for the handler.
        queue.async { [self] in
            handler = nil
            context.connectionDidClose?(self)
        }
    }

    /// Ends the connection after its last response without losing that response: closing a
    /// socket with unread input makes the kernel send RST, which can destroy the response in
    /// flight (a 413 answered while the client still uploads). So the write side is shut down
    /// and input is read and dropped until the peer closes, `lingerLimit` bytes or
    /// `lingerSeconds` have passed.
    private func beginLingeringClose() {
        clock.beginLingering(at: DispatchTime.now().uptimeNanoseconds)
        handler?.connectionClosed()
        if let tls {
            tls.close()
            tls.takeCiphertext(appendingTo: &outbound)
            guard flushSocket() else { return }
        }
        _ = shutdown(descriptor, Int32(SHUT_WR))
        readPausedByHandler = false
        updateInterest()
    }

    static let lingerSeconds = 2.0
    private static let lingerLimit = 4 * 1024 * 1024

    /// Server shutdown: the session finishes what is in flight, then the connection closes.
    func beginGracefulShutdown() {
        guard !isClosed else { return }
        isShuttingDown = true
        guard let handler else {
            close()
            return
        }
        handler.beginGracefulShutdown()
        pump()
    }

    // MARK: Events

    /// What the loop saw on the socket.
    func handle(_ readiness: EventLoop.Readiness) {
        guard !isClosed else { return }
        if readiness.readable {
            // An error or hang-up is reported even while reading is paused; the peer is gone then.
            guard interest.contains(.readable) else {
                close()
                return
            }
            readable()
        } else if readiness.writable {
            pump()
        }
    }

    private func readable() {
        guard !isClosed else { return }
        pumpFollows = true
        receiveAvailable()
        pumpFollows = false
        pump()
    }

    private func receiveAvailable() {
        // A bounded number of reads per event keeps one busy connection from starving others.
        for _ in 0..<4 {
            let count = readBuffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0, clock.isLingering {
                lingeringDiscarded += count
                if lingeringDiscarded > Connection.lingerLimit {
                    close()
                    return
                }
                continue
            } else if count > 0 {
                receivedAt = DispatchTime.now().uptimeNanoseconds
                clock.recordActivity(at: receivedAt)
                readBuffer.withUnsafeBytes { received(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                if isClosed || readPausedByHandler || !hasOutputRoom || count < readBuffer.count { break }
            } else if count == 0 {
                close()
                return
            } else {
                let code = errno
                if code == EINTR { continue }
                if code == EAGAIN || code == EWOULDBLOCK { break }
                context.logger.debug("recv failed", metadata: ["remote": "\(remoteAddress)", "errno": "\(code)"])
                close()
                return
            }
        }
    }

    private func received(_ bytes: UnsafeRawBufferPointer) {
        guard let tls else {
            deliver(bytes)
            return
        }
        tls.receiveCiphertext(bytes)
        plaintext.removeAll(keepingCapacity: true)
        let result: TLSConnection.ReadResult
        do {
            result = try tls.readPlaintext(appendingTo: &plaintext)
        } catch {
            context.logger.debug("TLS failure", metadata: ["remote": "\(remoteAddress)", "error": "\(error)"])
            tls.takeCiphertext(appendingTo: &outbound)
            closeAfterFlush()
            return
        }
        tls.takeCiphertext(appendingTo: &outbound)
        if handler == nil, tls.isHandshakeComplete, tls.negotiatedProtocol == "h2" {
            installHandler(HTTP2Session(connection: self, upgrade: nil))
        }
        if !plaintext.isEmpty {
            let chunk = plaintext
            chunk.withUnsafeBytes { deliver($0) }
        }
        if result == .closed {
            closeAfterFlush()
        }
    }

    private func deliver(_ bytes: UnsafeRawBufferPointer) {
        if let handler {
            handler.receive(bytes)
            return
        }
        // The first bytes decide the protocol: the HTTP/2 preface means h2c, anything else HTTP/1.1.
        prefaceBytes.append(contentsOf: bytes)
        let preface = Connection.http2Preface
        let compared = min(prefaceBytes.count, preface.count)
        let matches = prefaceBytes[0..<compared].elementsEqual(preface[0..<compared])
        if matches, compared < preface.count { return }
        let session: ConnectionHandler = matches ? HTTP2Session(connection: self, upgrade: nil) : HTTP1Session(connection: self)
        installHandler(session)
        let buffered = prefaceBytes
        prefaceBytes = []
        buffered.withUnsafeBytes { session.receive($0) }
    }

    private func installHandler(_ session: ConnectionHandler) {
        handler = session
        if isShuttingDown { session.beginGracefulShutdown() }
    }

    /// Writes as much queued output as the socket takes. Returns false if the connection closed.
    private func flushSocket() -> Bool {
        while outboundOffset < outbound.count {
            let count = outbound.withUnsafeBytes { buffer in
                send(descriptor, buffer.baseAddress! + outboundOffset, buffer.count - outboundOffset, Int32(MSG_NOSIGNAL))
            }
            if count > 0 {
                outboundOffset += count
                clock.recordActivity(at: DispatchTime.now().uptimeNanoseconds)
                continue
            }
            let code = errno
            if count < 0, code == EINTR { continue }
            if count < 0, code == EAGAIN || code == EWOULDBLOCK { return true }
            context.logger.debug("send failed", metadata: ["remote": "\(remoteAddress)", "errno": "\(code)"])
            close()
            return false
        }
        // Keep a modest buffer; a 50 MB response must not pin 50 MB per idle connection.
        if outbound.capacity > 4 * Connection.outputHighWater {
            outbound = []
        } else {
            outbound.removeAll(keepingCapacity: true)
        }
        outboundOffset = 0
        return true
    }

    /// Reads while neither the session nor unsent output holds reading back; watches for room
    /// to write while output waits.
    private func updateInterest() {
        guard !isClosed else { return }
        var wanted: EventLoop.Interest = []
        if !readPausedByHandler && hasOutputRoom { wanted.insert(.readable) }
        if outbound.count > outboundOffset { wanted.insert(.writable) }
        guard wanted != interest else { return }
        interest = wanted
        loop.update(self, descriptor: descriptor, interest: wanted)
    }

    /// The loop's timer: closes the connection when one of its timeouts has passed.
    func checkTimeouts() {
        guard !isClosed else { return }
        let decision = clock.decide(at: DispatchTime.now().uptimeNanoseconds, isIdle: handler?.isIdle ?? true,
                                    hasPendingOutput: outbound.count > outboundOffset || !pendingPlaintext.isEmpty)
        switch decision {
        case .keepOpen:
            return
        case .lingerFinished:
            close()
        case .headerTimeout:
            context.logger.notice("closing connection: request head not received in time",
                                  metadata: ["remote": "\(remoteAddress)", "timeout_s": "\(context.limits.headerReadTimeout)"])
            close()
        case .idleTimeout:
            context.logger.debug("closing idle connection", metadata: ["remote": "\(remoteAddress)"])
            guard let handler else {
                close()
                return
            }
            handler.closeIdle()
            closeAfterFlush()
            pump()
        }
    }
}
