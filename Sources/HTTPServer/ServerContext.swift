import Glibc
import Dispatch
import Logging
import TLS

/// What every connection of one server shares: settings, the responder, the logger.
final class ServerContext: @unchecked Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    let tlsContext: TLSContext?
    /// One serial queue per core; every connection queue targets one of them (round robin), so
    /// a core drains many connections per wake-up, like an event loop, and no connection gets
    /// a thread of its own.
    let loops: [DispatchQueue] = (0..<max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))).map {
        DispatchQueue(label: "fixserve.http.loop.\($0)", qos: .userInitiated)
    }

    /// The loop queue for the connection numbered `id`.
    func loop(for id: Int) -> DispatchQueue {
        loops[id % loops.count]
    }
    /// Called on the connection's queue once its socket is closed.
    var connectionDidClose: ((Connection) -> Void)?

    init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger, tlsContext: TLSContext?) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.tlsContext = tlsContext
    }

    var limits: HTTPServerConfiguration.Limits { configuration.limits }

    /// Hands the responder's response to `completion` on the connection's queue.
    func dispatch(_ request: HTTPRequest, on connection: Connection, completion: @escaping (HTTPResponse) -> Void) {
        dispatch(request, on: connection, to: ClosureReceiver(completion), token: ())
    }

    /// Passes the responder's response to `receiver` on the connection's queue: at once when the
    /// responder has an immediate response, through a promise when it takes one, otherwise from a task.
    func dispatch<Receiver: ResponseReceiver>(_ request: HTTPRequest, on connection: Connection, to receiver: Receiver,
                                              token: Receiver.Token) {
        let responder = self.responder
        if let response = responder.immediateResponse(to: request) {
            // No task: a responder that can answer synchronously costs no task creation,
            // executor bookkeeping or allocations of its own.
            receiver.receive(response, for: token)
            return
        }
        let queue = connection.queue
        let promise = HTTPResponsePromise(
            queue: queue, isOnQueue: { DispatchQueue.getSpecific(key: Connection.queueKey) == ObjectIdentifier(connection) },
            deliver: { receiver.receive($0, for: token) })
        if responder.respond(to: request, promise: promise) { return }
        promise.release()
        switch configuration.responderPlacement {
        case .connectionQueue:
            // The task starts at once, on this thread (we are on the connection's queue): a
            // responder that returns without suspending answers with no task switch at all.
            // After a suspension it resumes on the connection's queue through the executor.
            Task.immediate(executorPreference: connection.executor) {
                let response = await responder.respond(to: request)
                if DispatchQueue.getSpecific(key: Connection.queueKey) == ObjectIdentifier(connection) {
                    receiver.receive(response, for: token)
                } else {
                    // An actor-isolated responder may leave us elsewhere.
                    queue.async { receiver.receive(response, for: token) }
                }
            }
        case .concurrencyPool:
            Task {
                let response = await responder.respond(to: request)
                queue.async { receiver.receive(response, for: token) }
            }
        }
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
        guard logger.logLevel <= .info else { return }
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
