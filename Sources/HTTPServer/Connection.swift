#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Dispatch
import Logging
import TLS

/// One accepted socket: non-blocking I/O on Dispatch sources and a serial queue, optional TLS,
/// protocol selection, output buffering with back-pressure, and the connection's timeouts.
/// The protocol session behind it (`ConnectionHandler`) never touches the socket.
final class Connection {
    let id: Int
    let remoteAddress: String
    let queue: DispatchQueue
    let context: ServerContext

    private let descriptor: Int32
    private let readSource: DispatchSourceRead
    private let writeSource: DispatchSourceWrite
    private let timer: DispatchSourceTimer
    private var tls: TLSConnection?
    private(set) var handler: ConnectionHandler?

    private var prefaceBytes: [UInt8] = []
    private var outbound: [UInt8] = []
    private var outboundOffset = 0
    private var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)
    private var plaintext: [UInt8] = []

    private var readSuspended = false
    private var writeSuspended = true
    private var readPausedByHandler = false
    private var closeWhenFlushed = false
    private(set) var isClosed = false
    private var isShuttingDown = false
    private var pendingCancellations = 2
    private var pumpScheduled = false

    private var lastActivity: UInt64
    private var headerStartedAt: UInt64?

    // Past this much unsent output the connection stops reading and stops asking the session for more.
    private static let outputHighWater = 1024 * 1024

    /// Marks each connection's queue, so code can tell whether it already runs there.
    static let queueKey = DispatchSpecificKey<ObjectIdentifier>()

    /// Runs responders on this connection's queue (see `HTTPServerConfiguration.responderPlacement`).
    private(set) lazy var executor = QueueTaskExecutor(queue: queue)

    static let http2Preface: [UInt8] = Array("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".utf8)

    init(id: Int, descriptor: Int32, remoteAddress: String, context: ServerContext) throws {
        self.id = id
        self.descriptor = descriptor
        self.remoteAddress = remoteAddress
        self.context = context
        queue = DispatchQueue(label: "fixserve.http.connection", target: context.loop(for: id))
        readSource = DispatchSource.makeReadSource(fileDescriptor: descriptor, queue: queue)
        writeSource = DispatchSource.makeWriteSource(fileDescriptor: descriptor, queue: queue)
        timer = DispatchSource.makeTimerSource(queue: queue)
        let now = DispatchTime.now().uptimeNanoseconds
        lastActivity = now
        headerStartedAt = now
        if let tlsContext = context.tlsContext {
            tls = try TLSConnection(context: tlsContext)
        }
        queue.setSpecific(key: Connection.queueKey, value: ObjectIdentifier(self))
    }

    /// Starts reading; call once.
    func start() {
        readSource.setEventHandler { [unowned self] in self.readable() }
        writeSource.setEventHandler { [unowned self] in self.pump() }
        let cancelled: () -> Void = { [unowned self] in self.sourceCancelled() }
        readSource.setCancelHandler(handler: cancelled)
        writeSource.setCancelHandler(handler: cancelled)
        let limits = context.limits
        let tick = max(0.05, min(limits.idleTimeout, limits.headerReadTimeout) / 4)
        timer.schedule(deadline: .now() + tick, repeating: tick, leeway: .milliseconds(Int(tick * 250)))
        timer.setEventHandler { [unowned self] in self.checkTimeouts() }
        readSource.activate()
        timer.activate()
    }

    // MARK: Interface for protocol sessions

    /// Queues plaintext for the peer (encrypted first when TLS is on). Call `pump()` afterwards
    /// unless inside `produceOutput` or `receive`, which the connection follows with a pump.
    func write(_ bytes: UnsafeRawBufferPointer) {
        guard !isClosed, bytes.count > 0 else { return }
        if let tls {
            do {
                try tls.writePlaintext(bytes)
                tls.takeCiphertext(appendingTo: &outbound)
            } catch {
                context.logger.debug("TLS write failed", metadata: ["remote": "\(remoteAddress)", "error": "\(error)"])
                close()
            }
        } else {
            outbound.append(contentsOf: bytes)
        }
    }

    func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { write($0) }
    }

    /// True while the connection wants more output from the session.
    var hasOutputRoom: Bool {
        outbound.count - outboundOffset < Connection.outputHighWater
    }

    /// Stops or restarts reading on behalf of the session (for example, while pipelined
    /// requests wait for their turn).
    func setReadingPaused(_ paused: Bool) {
        readPausedByHandler = paused
        updateReading()
    }

    /// Marks the start (true) or end (false) of a request head for the header-read timeout.
    func setReadingHeaders(_ reading: Bool) {
        headerStartedAt = reading ? (headerStartedAt ?? DispatchTime.now().uptimeNanoseconds) : nil
    }

    /// Closes the socket once all queued output is written.
    func closeAfterFlush() {
        closeWhenFlushed = true
    }

    /// Replaces the session (HTTP/1.1 upgraded to h2c).
    func replaceHandler(_ newHandler: ConnectionHandler) {
        handler = newHandler
    }

    /// Runs `pump()` once after the blocks already queued, so responses that complete together
    /// leave in one write.
    func schedulePump() {
        guard !pumpScheduled else { return }
        pumpScheduled = true
        queue.async { [self] in
            pumpScheduled = false
            pump()
        }
    }

    /// Writes queued output, asks the session for more while there is room, and updates the
    /// read and write sources. Safe to call at any time on the queue.
    func pump() {
        guard !isClosed else { return }
        for _ in 0..<64 {
            if hasOutputRoom, let handler { handler.produceOutput() }
            if isClosed { return }
            let pendingBefore = outbound.count - outboundOffset
            if pendingBefore == 0 { break }
            guard flushSocket() else { return }
            if outbound.count - outboundOffset > 0 { break }
        }
        let pending = outbound.count - outboundOffset
        if pending == 0, closeWhenFlushed {
            close()
            return
        }
        if pending > 0, writeSuspended {
            writeSuspended = false
            writeSource.resume()
        } else if pending == 0, !writeSuspended {
            writeSuspended = true
            writeSource.suspend()
        }
        updateReading()
    }

    /// Closes the socket now; in-flight work is cancelled.
    func close() {
        guard !isClosed else { return }
        isClosed = true
        tls = nil
        timer.cancel()
        if readSuspended { readSource.resume() }
        if writeSuspended { writeSource.resume() }
        readSource.cancel()
        writeSource.cancel()
        handler?.connectionClosed()
    }

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

    private func readable() {
        guard !isClosed else { return }
        // A bounded number of reads per event keeps one busy connection from starving others.
        for _ in 0..<4 {
            let count = readBuffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count > 0 {
                lastActivity = DispatchTime.now().uptimeNanoseconds
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
        pump()
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
                lastActivity = DispatchTime.now().uptimeNanoseconds
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

    private func updateReading() {
        guard !isClosed else { return }
        let shouldRead = !readPausedByHandler && hasOutputRoom
        if shouldRead, readSuspended {
            readSuspended = false
            readSource.resume()
        } else if !shouldRead, !readSuspended {
            readSuspended = true
            readSource.suspend()
        }
    }

    private func checkTimeouts() {
        guard !isClosed else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let limits = context.limits
        if let started = headerStartedAt, Double(now &- started) / 1e9 > limits.headerReadTimeout {
            context.logger.notice("closing connection: request head not received in time",
                                  metadata: ["remote": "\(remoteAddress)", "timeout_s": "\(limits.headerReadTimeout)"])
            close()
            return
        }
        let idle = handler?.isIdle ?? true
        if idle, outbound.count == outboundOffset, Double(now &- lastActivity) / 1e9 > limits.idleTimeout {
            context.logger.debug("closing idle connection", metadata: ["remote": "\(remoteAddress)"])
            if let handler {
                handler.closeIdle()
                closeAfterFlush()
                pump()
            } else {
                close()
            }
        }
    }

    private func sourceCancelled() {
        pendingCancellations -= 1
        guard pendingCancellations == 0 else { return }
        // Both sources are gone, so nothing can touch the descriptor any more.
        _ = Glibc.close(descriptor)
        handler = nil
        context.connectionDidClose?(self)
    }
}
