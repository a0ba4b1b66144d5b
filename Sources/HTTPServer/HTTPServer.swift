import Dispatch
import Foundation
import Logging
import TLS

/// An HTTP/1.1 and HTTP/2 server (h2c with prior knowledge or `Upgrade`, h2 over TLS with ALPN)
/// that hands complete requests to a responder. It knows nothing about what it serves.
///
/// Sockets are non-blocking and driven by one event loop per core (`EventLoop`: a serial queue
/// and one Dispatch read source on an epoll set); each connection runs on its loop's queue and
/// has no thread of its own.
public final class HTTPServer: @unchecked Sendable {
    /// How many event loops a server runs: one per online core.
    public static let eventLoopCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    private let context: ServerContext
    private let lock = NSLock()
    private let acceptQueue = DispatchQueue(label: "fixserve.http.accept")
    private var listener: ListeningSocket?
    private var acceptSource: DispatchSourceRead?
    private var connections: [Int: Connection] = [:]
    private var nextConnectionID = 0
    private var state = State.idle
    private var drainedWaiters: [@Sendable () -> Void] = []

    private enum State { case idle, running, shuttingDown, stopped }

    /// - Parameters:
    ///   - configuration: address, TLS files and limits.
    ///   - responder: answers every request.
    ///   - logger: access log (info) and connection errors (debug/notice/error).
    /// - Throws: `HTTPServerError.tls` when the certificate or key cannot be loaded.
    public init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger) throws {
        var tlsContext: TLSContext?
        if let files = configuration.tls {
            do {
                tlsContext = try TLSContext(certificatePath: files.certificatePath, privateKeyPath: files.privateKeyPath)
            } catch {
                throw HTTPServerError.tls(underlying: error)
            }
        }
        context = ServerContext(configuration: configuration, responder: responder, logger: logger, tlsContext: tlsContext)
        context.connectionDidClose = { [weak self] connection in self?.remove(connection) }
    }

    /// Convenience for a closure responder.
    public convenience init(configuration: HTTPServerConfiguration, logger: Logger,
                            responder: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) throws {
        try self.init(configuration: configuration, responder: HTTPClosureResponder(responder), logger: logger)
    }

    /// True while the server accepts requests; false before `start()` and once shutdown began.
    /// Meant for readiness probes.
    public var isReady: Bool {
        lock.withLock { state == .running }
    }

    /// Number of open connections.
    public var connectionCount: Int {
        lock.withLock { connections.count }
    }

    /// Binds, listens and starts accepting.
    /// - Returns: the bound port (useful with port 0).
    /// - Throws: `HTTPServerError` when the address cannot be bound or the server already ran.
    @discardableResult
    public func start() throws -> Int {
        try lock.withLock {
            guard state == .idle else { throw HTTPServerError.notStartable }
            let configuration = context.configuration
            let listener = try ListeningSocket(host: configuration.host, port: configuration.port)
            let source = DispatchSource.makeReadSource(fileDescriptor: listener.descriptor, queue: acceptQueue)
            source.setEventHandler { [weak self] in self?.acceptPending() }
            source.setCancelHandler { listener.close() }
            self.listener = listener
            acceptSource = source
            state = .running
            source.activate()
            context.logger.info("listening", metadata: [
                "host": "\(configuration.host)", "port": "\(listener.port)",
                "tls": "\(configuration.tls != nil)",
            ])
            return listener.port
        }
    }

    /// Stops accepting (new connections are refused), tells HTTP/2 peers GOAWAY and HTTP/1.1
    /// peers `connection: close`, lets in-flight requests finish until `deadline`, then closes
    /// whatever is left. Returns when every connection is closed.
    public func shutdown(deadline: DispatchTime) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            shutdown(deadline: deadline) { continuation.resume() }
        }
    }

    /// `shutdown(deadline:)` for callers that are not tasks (a test's `defer`, a signal
    /// handler): `completion` runs once every connection is closed, on the thread that closed
    /// the last one, or on this one if none was open. Needs no task, so a thread may wait for it.
    public func shutdown(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        let open: [Connection] = lock.withLock {
            guard state == .running || state == .idle else { return [] }
            state = .shuttingDown
            acceptSource?.cancel()
            acceptSource = nil
            return Array(connections.values)
        }
        context.logger.info("shutting down", metadata: ["connections": "\(open.count)"])
        for connection in open {
            connection.loop.execute { connection.beginGracefulShutdown() }
        }
        let timer = DispatchSource.makeTimerSource(queue: acceptQueue)
        timer.schedule(deadline: deadline)
        timer.setEventHandler { [weak self] in self?.forceClose() }
        timer.activate()
        let drained: @Sendable () -> Void = { [self] in
            timer.cancel()
            lock.withLock { state = .stopped }
            completion()
        }
        let done: Bool = lock.withLock {
            if connections.isEmpty { return true }
            drainedWaiters.append(drained)
            return false
        }
        if done { drained() }
    }

    private func forceClose() {
        let remaining = lock.withLock { Array(connections.values) }
        if !remaining.isEmpty {
            context.logger.notice("shutdown deadline passed; closing connections", metadata: ["connections": "\(remaining.count)"])
        }
        for connection in remaining {
            connection.loop.execute { connection.close() }
        }
    }

    private func acceptPending() {
        guard let listener else { return }
        // Bounded so a connection storm cannot monopolise the accept queue.
        for _ in 0..<256 {
            guard let (descriptor, remote) = listener.accept() else { return }
            let admitted: Connection? = lock.withLock {
                guard state == .running, connections.count < context.limits.maxConnections else { return nil }
                nextConnectionID += 1
                guard let connection = try? Connection(id: nextConnectionID, descriptor: descriptor, remoteAddress: remote, context: context) else {
                    return nil
                }
                connections[connection.id] = connection
                return connection
            }
            guard let admitted else {
                context.logger.notice("refusing connection", metadata: ["remote": "\(remote)", "reason": "connection limit or shutdown"])
                _ = close(descriptor)
                continue
            }
            admitted.loop.execute { admitted.start() }
        }
    }

    private func remove(_ connection: Connection) {
        let waiters: [@Sendable () -> Void] = lock.withLock {
            connections[connection.id] = nil
            guard connections.isEmpty, state == .shuttingDown else { return [] }
            defer { drainedWaiters = [] }
            return drainedWaiters
        }
        for waiter in waiters { waiter() }
    }
}
