import Dispatch
import Foundation
import HTTPServer
import LinearAlgebra
import Logging
import ModelStore
import Synchronization

/// FixServe's API on the HTTP transport: Open Inference Protocol v2, TorchServe-style predictions,
/// model info, training jobs, health and metrics.
///
/// Handlers throw `ServiceError` (or an error of a lower layer that `ServiceError.from` maps);
/// `respond(to:promise:)` is the one place errors become `{"error": "…"}` responses.
public final class ModelService: HTTPResponder, @unchecked Sendable {
    /// How a handler answers: once, now or later, from any thread.
    typealias Reply = @Sendable (Result<HTTPResponse, Error>) -> Void
    /// The one shape of every route's handler. The loop is the connection's when the handler
    /// runs there (nil elsewhere): work handed to it runs on that loop's thread once the loop
    /// has handled what is ready now.
    typealias Handler = @Sendable (ModelService, HTTPRequest, RouteParameters, ConnectionLoop?, @escaping Reply) -> Void
    /// A handler that answers from its return value.
    typealias Answer = @Sendable (ModelService, HTTPRequest, RouteParameters) throws -> HTTPResponse

    /// The largest body a `.compute` route decodes on the connection's queue: one image's
    /// tensor, binary or as JSON numbers, with room to spare.
    static let inlineBodyBytes = 16 << 10

    /// Where a route's handler runs.
    enum Placement {
        /// On the connection's queue: O(1) lookups and constant answers only, since the
        /// connection's loop (and every connection on it) waits while it runs.
        case connection
        /// On the compute queue: decoding a request that then joins a batch, which computes on
        /// the same thread when an instance is idle. A request whose body is at most
        /// `inlineBodyBytes` is decoded on the connection's queue instead, where its batch runs
        /// after the loop's wake-up: decoding it costs less than waking a thread and back.
        case compute
        /// On the background queue: work that scans, reads or writes files, compiles engines or
        /// encodes larger documents, so a slow request never stalls a connection's loop.
        case background
    }

    /// What a route does with a request.
    enum Work {
        /// Answers from its return value; on the connection's queue it is called directly, with
        /// no reply closure or in-flight count per request.
        case answer(Answer)
        /// Answers through `reply`, later (once its batch has run).
        case later(Handler)

        func run(_ service: ModelService, _ request: HTTPRequest, _ parameters: RouteParameters, _ loop: ConnectionLoop?,
                 _ reply: @escaping Reply) {
            switch self {
            case .answer(let answer): reply(Result { try answer(service, request, parameters) })
            case .later(let handler): handler(service, request, parameters, loop, reply)
            }
        }
    }

    struct Route {
        var placement: Placement
        var work: Work
        var metrics: RouteMetrics
    }

    public let configuration: ServiceConfiguration
    public let repository: ModelRepository<ServedModel>
    public let trainer: TrainerQueue
    /// Which route needs which API key role.
    let accessPolicy: AccessPolicy
    let metrics: ServiceMetrics
    let logger: Logger
    let computeQueue: DispatchQueue
    /// Where `.background` routes run.
    let backgroundQueue = DispatchQueue(label: "fixserve.service.background", qos: .utility, attributes: .concurrent)
    private var router = Router<Route>()
    /// `GET /v2/models/{model}` answers by model (and version), valid for one repository
    /// generation; one cache per event loop, so a metadata poll takes no lock another core holds.
    let metadataCaches = (0..<HTTPServer.eventLoopCount).map { _ in MetadataCache() }
    /// Requests no route matched (404, 405).
    private let unmatchedMetrics: RouteMetrics
    private let inFlight = ManagedCounter()
    /// Readiness beyond the models: false once the transport starts shutting down.
    public var transportIsReady: @Sendable () -> Bool = { true }

    /// Builds the service over an empty repository; `start()` loads it.
    public init(configuration: ServiceConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.accessPolicy = configuration.accessPolicy
        // Inference and training split their work over threads of their own; BLAS threads would
        // only spin beside them.
        BLAS.threadCount = 1
        let computeQueue = DispatchQueue(label: "fixserve.compute", qos: .userInitiated, attributes: .concurrent)
        self.computeQueue = computeQueue
        let metrics = ServiceMetrics()
        self.metrics = metrics
        self.unmatchedMetrics = metrics.route("unmatched")
        repository = ModelRepository<ServedModel>(
            root: configuration.modelsDirectory,
            makeRuntime: ServedModel.loader(defaults: configuration.batching, workers: configuration.computeThreads,
                                            computeQueue: computeQueue, metrics: metrics))
        trainer = Self.makeTrainer(configuration: configuration, logger: logger, metrics: metrics)
        metrics.watch(inFlight: inFlight, repository: repository)
        registerRoutes()
    }

    /// Adds a gauge to /metrics, read each time the metrics are rendered: a figure of the whole
    /// process that only the executable knows of (its allocator's, say). Nil leaves it out.
    public func addGauge(_ name: String, help: String, read: @escaping @Sendable () -> Double?) {
        metrics.registry.declareGauge(name, help: help) { read().map { [([:], $0)] } ?? [] }
    }

    /// Loads every model in the repository (models that fail to load are reported in their
    /// status, not thrown) and starts watching it for new versions.
    public func start() {
        repository.scan()
        if configuration.pollInterval > 0 { repository.startPolling(interval: configuration.pollInterval) }
    }

    private func registerRoutes() {
        /// A route that answers from its return value.
        func add(_ method: String, _ pattern: String, on placement: Placement = .connection, _ answer: @escaping Answer) {
            router.add(method, pattern, Route(placement: placement, work: .answer(answer), metrics: metrics.route(pattern)))
        }
        /// A route that answers through `reply`, later (once its batch has run).
        func add(_ method: String, _ pattern: String, on placement: Placement, later handler: @escaping Handler) {
            router.add(method, pattern, Route(placement: placement, work: .later(handler), metrics: metrics.route(pattern)))
        }
        // Open Inference Protocol v2 (KServe / Triton REST).
        add("GET", "/v2", { s, _, _ in try s.serverMetadata() })
        add("GET", "/v2/health/live", { _, _, _ in ModelService.liveResponse })
        add("GET", "/v2/health/ready", { s, _, _ in try s.readiness() })
        add("GET", "/v2/models/{model}", { s, r, p in try s.modelMetadata(p, loop: r.eventLoop) })
        add("GET", "/v2/models/{model}/versions/{version}", { s, r, p in try s.modelMetadata(p, loop: r.eventLoop) })
        add("GET", "/v2/models/{model}/ready", { s, _, p in try s.modelReady(p) })
        add("GET", "/v2/models/{model}/versions/{version}/ready", { s, _, p in try s.modelReady(p) })
        add("GET", "/v2/models/{model}/config", on: .background, { s, _, p in try s.modelConfig(p) })
        add("GET", "/v2/models/{model}/versions/{version}/config", on: .background, { s, _, p in try s.modelConfig(p) })
        add("GET", "/v2/models/{model}/stats", on: .background, { s, _, p in try s.modelStats(p) })
        add("GET", "/v2/models/{model}/versions/{version}/stats", on: .background, { s, _, p in try s.modelStats(p) })
        add("GET", "/v2/models/stats", on: .background, { s, _, _ in try s.modelStats([:]) })
        add("POST", "/v2/models/{model}/infer", on: .compute, later: { s, r, p, loop, reply in s.infer(r, p, loop: loop, completion: reply) })
        add("POST", "/v2/models/{model}/versions/{version}/infer", on: .compute, later: { s, r, p, loop, reply in s.infer(r, p, loop: loop, completion: reply) })
        add("POST", "/v2/repository/index", on: .background, { s, _, _ in try s.repositoryIndex() })
        add("POST", "/v2/repository/models/{model}/load", on: .background, { s, r, p in try s.loadModel(r, p) })
        add("POST", "/v2/repository/models/{model}/unload", on: .background, { s, r, p in try s.unloadModel(r, p) })
        // TorchServe-style. A prediction's image is decoded in its batch, so the route itself is O(1).
        add("GET", "/ping", { s, _, _ in s.ping() })
        add("POST", "/predictions/{model}", on: .connection, later: { s, r, p, loop, reply in s.predict(r, p, loop: loop, completion: reply) })
        add("POST", "/predictions/{model}/{version}", on: .connection, later: { s, r, p, loop, reply in s.predict(r, p, loop: loop, completion: reply) })
        // TorchServe takes PUT too, which is what `curl -T image.png` sends.
        add("PUT", "/predictions/{model}", on: .connection, later: { s, r, p, loop, reply in s.predict(r, p, loop: loop, completion: reply) })
        add("PUT", "/predictions/{model}/{version}", on: .connection, later: { s, r, p, loop, reply in s.predict(r, p, loop: loop, completion: reply) })
        // FixServe's own.
        add("GET", "/v1/models", on: .background, { s, _, _ in try s.modelList() })
        add("GET", "/v1/models/{model}", on: .background, { s, _, p in try s.modelInfo(p) })
        add("POST", "/v1/training/jobs", on: .background, { s, r, _ in try s.submitTrainingJob(r) })
        add("GET", "/v1/training/jobs", on: .background, { s, _, _ in try s.trainingJobs() })
        add("GET", "/v1/training/jobs/{job}", on: .background, { s, _, p in try s.trainingJob(p) })
        add("DELETE", "/v1/training/jobs/{job}", on: .background, { s, _, p in try s.cancelTrainingJob(p) })
        add("GET", "/v1/training/jobs/{job}/events", on: .background, { s, _, p in try s.trainingEvents(p) })
        add("GET", "/metrics", on: .background, { s, _, _ in s.prometheusMetrics() })
        // The web page and its two files: constants.
        add("GET", "/", { s, _, _ in s.webPage() })
        add("GET", "/web/{asset}", { s, _, p in try s.webAsset(p) })
    }

    /// Routes `request` and fulfils `promise` with its response, errors already turned into
    /// JSON, with no task: on the connection's thread for O(1) routes, from the compute or
    /// background queue for the others.
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        let started = DispatchTime.now()
        switch router.match(method: request.method, path: request.path) {
        case .success(let match):
            let route = match.handler
            if let denial = accessPolicy.denial(for: request, route: route.metrics.pattern) {
                promise.fulfilInline(finished(denial, route: route.metrics, started: started))
                return
            }
            let parameters = match.parameters
            if route.placement == .connection, case .answer(let answer) = route.work {
                // Answered before this call returns: never observably in flight.
                let response: HTTPResponse
                do {
                    response = try answer(self, request, parameters)
                } catch {
                    response = Self.errorResponse(for: error, logger: logger, request: request)
                }
                promise.fulfilInline(finished(response, route: route.metrics, started: started))
                return
            }
            inFlight.add(1)
            let reply: Reply = { [self] result in
                let response: HTTPResponse
                switch result {
                case .success(let answer): response = answer
                case .failure(let error): response = Self.errorResponse(for: error, logger: logger, request: request)
                }
                inFlight.add(-1)
                promise.fulfil(finished(response, route: route.metrics, started: started))
            }
            let loop = promise.connectionLoop
            switch route.placement {
            case .connection: route.work.run(self, request, parameters, loop, reply)
            case .compute where request.body.count <= Self.inlineBodyBytes: route.work.run(self, request, parameters, loop, reply)
            case .compute: computeQueue.async { route.work.run(self, request, parameters, nil, reply) }
            case .background: backgroundQueue.async { route.work.run(self, request, parameters, nil, reply) }
            }
        case .failure(let miss):
            promise.fulfilInline(finished(Self.response(for: miss.miss, request), route: unmatchedMetrics, started: started))
        }
    }

    private func finished(_ response: HTTPResponse, route: RouteMetrics, started: DispatchTime) -> HTTPResponse {
        route.requestFinished(status: response.status, seconds: Double(started.nanoseconds()) / 1e9)
        return response
    }

    private static func response(for miss: Router<Route>.Miss, _ request: HTTPRequest) -> HTTPResponse {
        switch miss {
        case .notFound:
            return .error(404, "no route for \(request.method) \(request.path)")
        case .methodNotAllowed(let allowed):
            var response = HTTPResponse.error(405, "\(request.method) is not allowed on \(request.path); use \(allowed.joined(separator: ", "))")
            response.headers.replaceOrAdd(name: "allow", value: allowed.joined(separator: ", "))
            return response
        }
    }

    /// The JSON error response for what a handler threw. A 500 is the server's fault, so its
    /// cause (the error as thrown, with its type) goes to the log for whoever runs the server.
    private static func errorResponse(for thrown: Error, logger: Logger, request: HTTPRequest) -> HTTPResponse {
        let error = ServiceError.from(thrown)
        if error.status >= 500 && error.status != 503 {
            logger.error("internal error", metadata: [
                "method": "\(request.method)", "path": "\(request.path)", "status": "\(error.status)",
                "error": "\(error.message)", "cause": "\(String(reflecting: type(of: thrown))): \(String(reflecting: thrown))",
            ])
        }
        return .error(error.status, error.message)
    }

    /// Stops polling and refuses new inference; queued work finishes.
    public func shutdown() {
        repository.stopPolling()
        for model in repository.servedModels() { model.runtime.batcher.close() }
    }
}

/// A counter several threads update.
final class ManagedCounter: Sendable {
    private let count = Atomic<Int>(0)
    func add(_ n: Int) { count.add(n, ordering: .relaxed) }
    var value: Int { count.load(ordering: .relaxed) }
}
