import Dispatch
import Logging
import TLS

/// What every connection of one server shares: settings, the responder, the logger.
final class ServerContext: @unchecked Sendable {
    let configuration: HTTPServerConfiguration
    let responder: any HTTPResponder
    let logger: Logger
    let tlsContext: TLSContext?
    /// Connection queues target this queue, so they share the machine's cores instead of each
    /// getting a thread.
    let connectionTarget = DispatchQueue.global(qos: .userInitiated)
    /// Called on the connection's queue once its socket is closed.
    var connectionDidClose: ((Connection) -> Void)?

    init(configuration: HTTPServerConfiguration, responder: any HTTPResponder, logger: Logger, tlsContext: TLSContext?) {
        self.configuration = configuration
        self.responder = responder
        self.logger = logger
        self.tlsContext = tlsContext
    }

    var limits: HTTPServerConfiguration.Limits { configuration.limits }

    /// Runs the responder in a task and hands its response back on the connection's queue.
    func dispatch(_ request: HTTPRequest, on connection: Connection, completion: @escaping (HTTPResponse) -> Void) {
        let responder = self.responder
        let queue = connection.queue
        switch configuration.responderPlacement {
        case .connectionQueue:
            let executor = connection.executor
            Task(executorPreference: executor) {
                let response = await responder.respond(to: request)
                // A nonisolated responder resumes on the preferred executor; anything else hops.
                if DispatchQueue.getSpecific(key: Connection.queueKey) == ObjectIdentifier(connection) {
                    completion(response)
                } else {
                    queue.async { completion(response) }
                }
            }
        case .concurrencyPool:
            Task {
                let response = await responder.respond(to: request)
                queue.async { completion(response) }
            }
        }
    }

    /// Writes one access-log line: method, path, status, body bytes sent, duration, protocol.
    func logAccess(method: String, path: String, status: Int, bytes: Int, startedAt: UInt64, version: HTTPVersion, remote: String) {
        guard logger.logLevel <= .info else { return }
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
