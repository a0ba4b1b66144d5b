import Foundation
import HTTPServer
import Logging
import ModelStore

/// Training jobs over REST: submit, list, inspect, cancel, and follow as server-sent events.
extension ModelService {
    /// The trainer queue of a service: jobs recorded in the state directory, each run by a
    /// `ModelTrainer` that writes its model into the repository, failed writes counted.
    static func makeTrainer(configuration: ServiceConfiguration, logger: Logger, metrics: ServiceMetrics) -> TrainerQueue {
        TrainerQueue(
            maxQueued: configuration.maxQueuedTrainingJobs, maxFinished: configuration.maxFinishedTrainingJobs,
            limits: configuration.trainingLimits, stateDirectory: configuration.stateDirectory, logger: logger,
            onStateFileFailure: { metrics.trainingJobWriteFailed() },
            jobRunner: ModelTrainer.jobRunner(
                modelsDirectory: configuration.modelsDirectory, dataRoot: configuration.dataRoot,
                threads: configuration.trainingThreads, checkpointEveryBatches: configuration.checkpointEveryBatches))
    }

    func submitTrainingJob(_ request: HTTPRequest) throws -> HTTPResponse {
        try Self.requireJSON(request)
        guard !request.body.isEmpty else {
            throw ServiceError.badRequest("the request body is empty; send a JSON training request such as {\"model\": \"my-model\"}")
        }
        try JSONDepth.check(request.body[...], maxDepth: 8)
        let decoded: TrainingRequest
        do {
            decoded = try JSONDecoder().decode(TrainingRequest.self, from: Data(request.body))
        } catch let error as DecodingError {
            throw ServiceError.badRequest("invalid training request: \(DecodingErrorText.describe(error))")
        }
        let job: TrainingJob
        do {
            job = try trainer.submit(decoded, owner: accessPolicy.caller(of: request)?.name)
        } catch let error as ServiceError where error.status == 429 {
            // A job takes minutes; a minute is when asking again may find room.
            var response = HTTPResponse.error(429, error.message)
            response.headers.add(name: "retry-after", value: "60")
            return response
        }
        var response = try HTTPResponse.json(encoding: job, status: 202)
        response.headers.add(name: "location", value: "/v1/training/jobs/\(job.id)")
        return response
    }

    /// State-changing POSTs take JSON only: the content types a browser may send to another site
    /// without asking first (text/plain, forms) cannot start trainings or unload models.
    static func requireJSON(_ request: HTTPRequest, allowingEmpty: Bool = false) throws {
        let type = (request.headers["content-type"] ?? "").split(separator: ";").first
            .map { $0.trimmingCharacters(in: .whitespaces).lowercased() } ?? ""
        if allowingEmpty && request.body.isEmpty && (type.isEmpty || type == "application/json") { return }
        guard type == "application/json" else {
            throw ServiceError.unsupportedMediaType(
                "this endpoint takes a JSON body with content-type application/json, not \"\(type.isEmpty ? "(none)" : type)\"")
        }
    }

    func trainingJobs() throws -> HTTPResponse {
        try .json(encoding: ["jobs": trainer.allJobs()])
    }

    func trainingJob(_ parameters: RouteParameters) throws -> HTTPResponse {
        let id = parameters["job"] ?? ""
        guard let job = trainer.job(id) else { throw ServiceError.notFound(trainer.notFoundMessage(id)) }
        return try .json(encoding: job)
    }

    func cancelTrainingJob(_ parameters: RouteParameters) throws -> HTTPResponse {
        try .json(encoding: try trainer.cancel(parameters["job"] ?? ""))
    }

    /// Progress as server-sent events: one `event: job` per update, ending with the final state.
    func trainingEvents(_ parameters: RouteParameters) throws -> HTTPResponse {
        let id = parameters["job"] ?? ""
        guard let updates = trainer.updates(of: id) else { throw ServiceError.notFound(trainer.notFoundMessage(id)) }
        let encoder = JSONEncoder.response
        let logger = self.logger
        let stream = AsyncStream<[UInt8]> { continuation in
            let task = Task {
                for await job in updates {
                    do {
                        let data = try encoder.encode(job)
                        continuation.yield(Array("event: job\ndata: ".utf8) + Array(data) + Array("\n\n".utf8))
                    } catch {
                        // The stream's 200 is already sent: the watcher hears of the fault as an
                        // event, whoever runs the server from the log.
                        logger.error("internal error", metadata: ["path": "/v1/training/jobs/\(id)/events", "cause": "\(error)"])
                        let message = JSONString.literal("internal error: job \(id) could not be written as JSON: \(error)")
                        continuation.yield(Array("event: error\ndata: {\"error\":\(message)}\n\n".utf8))
                    }
                }
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
        return HTTPResponse(status: 200, headers: ["content-type": "text/event-stream", "cache-control": "no-cache"], body: .stream(stream))
    }

    func prometheusMetrics() -> HTTPResponse {
        HTTPResponse(status: 200, headers: ["content-type": "text/plain; version=0.0.4; charset=utf-8"],
                     body: .bytes(Array(metrics.registry.render().utf8)))
    }
}
