import Dispatch
import Foundation
import HTTPServer
import LinearAlgebra
import Logging
import ModelStore

/// FixServe's API on the HTTP transport: Open Inference Protocol v2, TorchServe-style predictions,
/// model info, training jobs, health and metrics.
///
/// Handlers throw `ServiceError` (or an error of a lower layer that `ServiceError.from` maps);
/// `respond(to:)` is the one place errors become `{"error": "…"}` responses.
public final class ModelService: HTTPResponder, @unchecked Sendable {
    typealias ImmediateHandler = @Sendable (ModelService, HTTPRequest, [String: String]) throws -> HTTPResponse
    typealias Completion = @Sendable (Result<HTTPResponse, Error>) -> Void
    typealias DeferredHandler = @Sendable (ModelService, HTTPRequest, [String: String], @escaping Completion) -> Void

    /// How a route answers: on the connection's queue at once, or later through a callback (the
    /// batcher's). Neither needs a task.
    enum RouteHandler {
        case immediate(ImmediateHandler)
        case deferred(DeferredHandler)
    }

    public let configuration: ServiceConfiguration
    public let repository: ModelRepository<ServedModel>
    public let trainer: TrainerQueue
    let metrics: ServiceMetrics
    let logger: Logger
    let computeQueue: DispatchQueue
    private var router = Router<(route: String, handler: RouteHandler)>()
    private let inFlight = ManagedCounter()
    /// Readiness beyond the models: false once the transport starts shutting down.
    public var transportIsReady: @Sendable () -> Bool = { true }

    /// Builds the service and loads the repository (models that fail to load are reported in
    /// their status, not thrown).
    public init(configuration: ServiceConfiguration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        // Inference splits a batch over its own workers; BLAS threads would only spin beside them.
        // Training jobs set their own count (`trainingThreads`) while they run.
        BLAS.threadCount = 1
        let workers = configuration.computeThreads
        let computeQueue = DispatchQueue(label: "fixserve.compute", qos: .userInitiated, attributes: .concurrent)
        self.computeQueue = computeQueue
        let repositoryBox = WeakBox<ModelRepository<ServedModel>>()
        let counter = inFlight
        let metrics = ServiceMetrics(
            inFlight: { Double(counter.value) },
            queueDepth: {
                (repositoryBox.value?.servedModels() ?? []).map {
                    (["model": $0.name, "version": String($0.version)], Double($0.runtime.batcher.queueDepth))
                }
            })
        self.metrics = metrics
        let defaults = configuration.batching
        let repository = ModelRepository<ServedModel>(root: configuration.modelsDirectory) { stored in
            let modelDirectory = stored.location.deletingLastPathComponent()
            let name = modelDirectory.lastPathComponent
            let version = stored.version ?? 0
            var settings = defaults
            if FileManager.default.fileExists(atPath: modelDirectory.appendingPathComponent(ModelConfig.fileName).path) {
                let config = try ModelConfig.load(fromModelDirectory: modelDirectory)
                settings = .init(maxBatchSize: config.maxBatchSize, maxQueueDelayMicroseconds: config.maxQueueDelayMicroseconds,
                                 maxQueueSize: config.maxQueueSize, instances: defaults.instances)
            }
            return try ServedModel(stored: stored, settings: settings, workers: workers, computeQueue: computeQueue) { report in
                metrics.batchFinished(model: name, version: version, report: report)
            }
        }
        repositoryBox.value = repository
        self.repository = repository
        let modelsDirectory = configuration.modelsDirectory
        let dataRoot = configuration.dataRoot
        self.trainer = TrainerQueue(
            maxQueued: configuration.maxQueuedTrainingJobs, maxFinished: configuration.maxFinishedTrainingJobs,
            stateDirectory: configuration.stateDirectory, logger: logger,
            onStateFileFailure: { metrics.trainingJobWriteFailed() },
            jobRunner: ModelTrainer.jobRunner(
                modelsDirectory: modelsDirectory, dataRoot: dataRoot, threads: configuration.trainingThreads,
                checkpointEveryBatches: configuration.checkpointEveryBatches))
        repository.scan()
        if configuration.pollInterval > 0 { repository.startPolling(interval: configuration.pollInterval) }
        registerRoutes()
    }

    private func registerRoutes() {
        func add(_ method: String, _ pattern: String, _ handler: @escaping ImmediateHandler) {
            router.add(method, pattern, (pattern, .immediate(handler)))
        }
        func addDeferred(_ method: String, _ pattern: String, _ handler: @escaping DeferredHandler) {
            router.add(method, pattern, (pattern, .deferred(handler)))
        }
        // Open Inference Protocol v2 (KServe / Triton REST).
        add("GET", "/v2", { s, _, _ in try s.serverMetadata() })
        add("GET", "/v2/health/live", { _, _, _ in ModelService.liveResponse })
        add("GET", "/v2/health/ready", { s, _, _ in try s.readiness() })
        add("GET", "/v2/models/{model}", { s, _, p in try s.modelMetadata(p) })
        add("GET", "/v2/models/{model}/versions/{version}", { s, _, p in try s.modelMetadata(p) })
        add("GET", "/v2/models/{model}/ready", { s, _, p in try s.modelReady(p) })
        add("GET", "/v2/models/{model}/versions/{version}/ready", { s, _, p in try s.modelReady(p) })
        add("GET", "/v2/models/{model}/config", { s, _, p in try s.modelConfig(p) })
        add("GET", "/v2/models/{model}/versions/{version}/config", { s, _, p in try s.modelConfig(p) })
        add("GET", "/v2/models/{model}/stats", { s, _, p in try s.modelStats(p) })
        add("GET", "/v2/models/{model}/versions/{version}/stats", { s, _, p in try s.modelStats(p) })
        add("GET", "/v2/models/stats", { s, _, _ in try s.modelStats([:]) })
        addDeferred("POST", "/v2/models/{model}/infer", { s, r, p, done in s.infer(r, p, completion: done) })
        addDeferred("POST", "/v2/models/{model}/versions/{version}/infer", { s, r, p, done in s.infer(r, p, completion: done) })
        add("POST", "/v2/repository/index", { s, _, _ in try s.repositoryIndex() })
        add("POST", "/v2/repository/models/{model}/load", { s, r, p in try s.loadModel(r, p) })
        add("POST", "/v2/repository/models/{model}/unload", { s, r, p in try s.unloadModel(r, p) })
        // TorchServe-style.
        add("GET", "/ping", { s, _, _ in s.ping() })
        addDeferred("POST", "/predictions/{model}", { s, r, p, done in s.predict(r, p, completion: done) })
        addDeferred("POST", "/predictions/{model}/{version}", { s, r, p, done in s.predict(r, p, completion: done) })
        // TorchServe takes PUT too, which is what `curl -T image.png` sends.
        addDeferred("PUT", "/predictions/{model}", { s, r, p, done in s.predict(r, p, completion: done) })
        addDeferred("PUT", "/predictions/{model}/{version}", { s, r, p, done in s.predict(r, p, completion: done) })
        // FixServe's own.
        add("GET", "/v1/models", { s, _, _ in try s.modelList() })
        add("GET", "/v1/models/{model}", { s, _, p in try s.modelInfo(p) })
        add("POST", "/v1/training/jobs", { s, r, _ in try s.submitTrainingJob(r) })
        add("GET", "/v1/training/jobs", { s, _, _ in try s.trainingJobs() })
        add("GET", "/v1/training/jobs/{job}", { s, _, p in try s.trainingJob(p) })
        add("DELETE", "/v1/training/jobs/{job}", { s, _, p in try s.cancelTrainingJob(p) })
        add("GET", "/v1/training/jobs/{job}/events", { s, _, p in try s.trainingEvents(p) })
        add("GET", "/metrics", { s, _, _ in s.prometheusMetrics() })
        // The web page and its two files.
        add("GET", "/", { s, _, _ in s.webPage() })
        add("GET", "/web/{asset}", { s, _, p in try s.webAsset(p) })
    }

    /// Answers every request through `promise`, with no task: at once for routes that need no
    /// waiting (and unknown ones), from the batcher's callback for inference and predictions.
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> Bool {
        answer(request) { promise.fulfil($0) }
        return true
    }

    /// The same answers for callers that await (the transport itself always takes the promise).
    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await withCheckedContinuation { continuation in
            answer(request) { continuation.resume(returning: $0) }
        }
    }

    /// Routes `request` and hands its response, errors already turned into JSON, to `deliver`:
    /// on this thread for immediate routes, from the batcher's callback for deferred ones.
    private func answer(_ request: HTTPRequest, deliver: @escaping @Sendable (HTTPResponse) -> Void) {
        let started = DispatchTime.now()
        switch router.match(method: request.method, path: request.path) {
        case .success(let match):
            let route = match.handler.route
            switch match.handler.handler {
            case .immediate(let handler):
                let response: HTTPResponse
                do {
                    response = try handler(self, request, match.parameters)
                } catch {
                    response = Self.errorResponse(for: error, logger: logger, request: request)
                }
                deliver(finished(response, route: route, started: started))
            case .deferred(let handler):
                inFlight.add(1)
                let logger = self.logger
                handler(self, request, match.parameters) { [self] result in
                    let response: HTTPResponse
                    switch result {
                    case .success(let answer): response = answer
                    case .failure(let error): response = Self.errorResponse(for: error, logger: logger, request: request)
                    }
                    inFlight.add(-1)
                    deliver(finished(response, route: route, started: started))
                }
            }
        case .failure(let miss):
            deliver(finished(Self.response(for: miss.miss, request), route: "unmatched", started: started))
        }
    }

    private func finished(_ response: HTTPResponse, route: String, started: DispatchTime) -> HTTPResponse {
        metrics.requestFinished(route: route, status: response.status,
                                seconds: Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9)
        return response
    }

    private static func response(for miss: Router<(route: String, handler: RouteHandler)>.Miss, _ request: HTTPRequest) -> HTTPResponse {
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
final class ManagedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add(_ n: Int) { lock.withLock { count += n } }
    var value: Int { lock.withLock { count } }
}

/// A weak reference that closures created before the referent can capture.
final class WeakBox<T: AnyObject>: @unchecked Sendable {
    weak var value: T?
}
