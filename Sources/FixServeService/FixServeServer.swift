import Dispatch
import Foundation
import HTTPServer
import Logging

/// The whole server: the model service on the HTTP transport. `fixserve serve` and the tests
/// build it through `start`, so tests run exactly what users run.
public final class FixServeServer: @unchecked Sendable {
    public let service: ModelService
    public let http: HTTPServer
    /// The bound port (useful with port 0).
    public let port: Int

    private let accessLog: AccessLog?

    private init(service: ModelService, http: HTTPServer, port: Int, accessLog: AccessLog?) {
        self.accessLog = accessLog
        self.service = service
        self.http = http
        self.port = port
    }

    /// Loads the models, binds, and starts serving.
    ///
    /// - Throws: `HTTPServerError` when the address cannot be bound or TLS files cannot be read.
    public static func start(
        service configuration: ServiceConfiguration, http httpConfiguration: HTTPServerConfiguration, logger: Logger
    ) throws -> FixServeServer {
        let service = ModelService(configuration: configuration, logger: logger)
        service.start()
        let http = try HTTPServer(configuration: httpConfiguration, responder: service, logger: logger)
        service.transportIsReady = { [weak http] in http?.isReady ?? false }
        if let accessLog = httpConfiguration.accessLog {
            service.metrics.registry.declareGauge("fixserve_access_log_lines", help: "Access-log lines written since start.") {
                [([:], Double(accessLog.writtenLines))]
            }
            service.metrics.registry.declareGauge(
                "fixserve_access_log_dropped_lines", help: "Access-log lines dropped since start because the log's sink fell behind."
            ) { [([:], Double(accessLog.droppedLines))] }
        }
        let port = try http.start()
        return FixServeServer(service: service, http: http, port: port, accessLog: httpConfiguration.accessLog)
    }

    /// Graceful shutdown: readiness turns false, no new connections, in-flight requests finish
    /// until `deadline`, then the batchers close.
    public func shutdown(deadline: DispatchTime) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            shutdown(deadline: deadline) { continuation.resume() }
        }
    }

    /// `shutdown(deadline:)` with a callback, for callers that are not tasks: a thread may wait
    /// for `completion`, which runs on the transport's queues (see `HTTPServer.shutdown`).
    public func shutdown(deadline: DispatchTime, completion: @escaping @Sendable () -> Void) {
        http.shutdown(deadline: deadline) { [service, accessLog] in
            service.shutdown()
            accessLog?.flush()
            completion()
        }
    }
}
