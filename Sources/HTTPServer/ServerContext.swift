import Glibc
import Dispatch
import Logging
import TLS

/// What every connection of one server shares: settings, the responder, the logger.
final class ServerContext: @unchecked Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    /// Whether finished requests are logged: read once, since the logger (a let) keeps its level
    /// and asking its handler costs an existential copy per request.
    private let logsAccess: Bool
    let tlsContext: TLSContext?
    /// One event loop per core; connections are spread over them round robin, so a core
    /// drains many connections per wake-up and no connection gets a thread of its own.
    let loops: [EventLoop]

    /// The loop of the connection numbered `id`.
    func loop(for id: Int) -> EventLoop {
        loops[id % loops.count]
    }
    /// Called on the connection's queue once its socket is closed.
    var connectionDidClose: ((Connection) -> Void)?

    init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger, tlsContext: TLSContext?) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.logsAccess = logger.logLevel <= .info
        self.tlsContext = tlsContext
        let limits = configuration.limits
        // A quarter of the shortest timeout, so none is overshot by much.
        let tick = max(0.05, min(limits.idleTimeout, limits.headerReadTimeout, Connection.lingerSeconds) / 4)
        loops = (0..<HTTPServer.eventLoopCount).map {
            EventLoop(index: $0, label: "fixserve.http.loop.\($0)", tick: tick)
        }
    }

    var limits: HTTPServerConfiguration.Limits { configuration.limits }

    /// Hands the responder's response to `completion` on the connection's queue.
    func dispatch(_ request: HTTPRequest, on connection: Connection, completion: @escaping (HTTPResponse) -> Void) {
        dispatch(request, on: connection, to: ClosureReceiver(completion), token: ())
    }

    /// Passes the responder's response to `receiver` on the connection's queue, through a
    /// promise the responder fulfils now or later.
    func dispatch<Receiver: ResponseReceiver>(_ request: HTTPRequest, on connection: Connection, to receiver: Receiver,
                                              token: Receiver.Token) {
        let promise = ReceiverPromise(connection: connection, placement: configuration.responderPlacement,
                                      receiver: receiver, token: token)
        var request = request
        request.eventLoop = connection.loop.index
        responder.respond(to: request, promise: promise)
    }

    private final class ClosureReceiver: ResponseReceiver {
        let completion: (HTTPResponse) -> Void

        init(_ completion: @escaping (HTTPResponse) -> Void) {
            self.completion = completion
        }

        func receive(_ response: HTTPResponse, for token: Void) {
            completion(response)
        }
    }

    /// Writes one access-log line: method, path, status, body bytes sent, duration, protocol.
    /// Through the buffered `AccessLog` when the configuration has one, else through the logger.
    func logAccess(method: String, path: String, status: Int, bytes: Int, startedAt: UInt64, version: HTTPVersion, remote: String) {
        guard logsAccess else { return }
        if let accessLog = configuration.accessLog {
            accessLog.record(method: method, path: path, status: status, bytes: bytes,
                             nanoseconds: DispatchTime.now().uptimeNanoseconds &- startedAt, version: version, remote: remote)
            return
        }
        let milliseconds = Double(DispatchTime.now().uptimeNanoseconds &- startedAt) / 1e6
        logger.info("\(method) \(path) \(status)", metadata: [
            "status": "\(status)",
            "bytes": "\(bytes)",
            "duration_ms": "\((milliseconds * 1000).rounded() / 1000)",
            "protocol": "\(version.rawValue)",
            "remote": "\(remote)",
        ])
    }
}
