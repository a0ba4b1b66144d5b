import Foundation
import HTTPServer
import ModelStore
import Numerics

/// Open Inference Protocol v2 handlers (KServe / Triton REST), with Triton's binary tensor data
/// and classification extensions.
extension ModelService {
    static let serverVersion = "0.1.0"

    func serverMetadata() throws -> HTTPResponse {
        try .json(["name": "fixserve", "version": Self.serverVersion,
               "extensions": ["binary_tensor_data", "classification", "model_repository", "statistics"]])
    }

    /// Ready when the transport accepts requests and every model in the repository serves a version.
    /// The answers of the health probes, made once: probes come often and always say the same.
    static let liveResponse = constantJSON(#"{"live":true}"#)
    static let readyResponse = constantJSON(#"{"ready":true}"#)

    static func constantJSON(_ text: String, status: Int = 200) -> HTTPResponse {
        HTTPResponse(status: status, headers: .json, body: .bytes(Array(text.utf8)))
    }

    func readiness() throws -> HTTPResponse {
        let statuses = repository.statuses()
        let notReady = statuses.filter { $0.state != .ready }.map(\.name)
        let ready = transportIsReady() && notReady.isEmpty
        if ready { return Self.readyResponse }
        var body: [String: Any] = ["ready": ready]
        if !notReady.isEmpty { body["models_not_ready"] = notReady }
        return try .json(body, status: ready ? 200 : 503)
    }

    /// The served model a request names, by `{model}` and optional `{version}`.
    func served(_ parameters: RouteParameters) throws -> LoadedModel<ServedModel> {
        let name = parameters["model"] ?? ""
        var version: Int?
        if let text = parameters["version"], !text.isEmpty {
            guard let number = Int(text), number > 0 else {
                throw ServiceError.badRequest("version \"\(text)\" must be a positive integer")
            }
            version = number
        }
        do {
            return try repository.snapshot(name, version: version)
        } catch let error as ModelStoreError {
            if case .noReadyVersion = error, version != nil {
                throw ServiceError.notFound(error.description)
            }
            throw error
        }
    }

    /// The model's metadata, made once per repository change: clients poll it.
    func modelMetadata(_ parameters: RouteParameters, loop: Int) throws -> HTTPResponse {
        let generation = repository.generation
        let cache = metadataCaches[loop % metadataCaches.count]
        // The usual form, without a version, is answered from the cache before any other lookup.
        if parameters["version"] == nil, let name = parameters["model"],
           let cached = cache.response(for: name, generation: generation) {
            return cached
        }
        let model = try served(parameters)
        // Keyed by the version served, not the text asked for: "1" and "01" share an entry, so
        // the cache holds at most one entry per served version and model.
        let key = parameters["version"] == nil ? model.name : "\(model.name)/\(model.version)"
        if let cached = cache.response(for: key, generation: generation) { return cached }
        let shape = model.manifest.input.shape
        let classes = model.manifest.head.classes
        let versions = repository.status(of: model.name)?.versions.filter { $0.state == .ready }.map { "\"\($0.version)\"" } ?? []
        // Written directly, keys sorted as JSONSerialization would.
        let dimensions = ([-1] + shape).map(String.init).joined(separator: ",")
        let body = "{\"inputs\":[{\"datatype\":\"FP32\",\"name\":\"input\",\"shape\":[\(dimensions)]}],"
            + "\"name\":\(JSONString.literal(model.name)),\"outputs\":["
            + "{\"datatype\":\"FP32\",\"name\":\"logits\",\"shape\":[-1,\(classes)]},"
            + "{\"datatype\":\"FP32\",\"name\":\"probabilities\",\"shape\":[-1,\(classes)]}],"
            + "\"platform\":\"fixserve\",\"versions\":[\(versions.joined(separator: ","))]}"
        let response = HTTPResponse(status: 200, headers: .json, body: .bytes(Array(body.utf8)))
        cache.store(response, for: key, generation: generation)
        return response
    }

    func modelReady(_ parameters: RouteParameters) throws -> HTTPResponse {
        do {
            let model = try served(parameters)
            return try .json(["name": model.name, "ready": true])
        } catch let error as ModelStoreError {
            if case .modelNotFound = error { throw error }
            return try .json(["name": parameters["model"] ?? "", "ready": false, "error": error.description], status: 503)
        }
    }

    /// Triton's model configuration, as `tritonclient.get_model_config` reads it.
    func modelConfig(_ parameters: RouteParameters) throws -> HTTPResponse {
        let model = try served(parameters)
        let settings = model.runtime.batcher.settings
        let classes = model.manifest.head.classes
        return try .json([
            "name": model.name, "platform": "fixserve", "backend": "fixserve",
            "max_batch_size": settings.maxBatchSize,
            "input": [["name": "input", "data_type": "TYPE_FP32", "format": "FORMAT_NCHW", "dims": model.manifest.input.shape]],
            "output": [["name": "logits", "data_type": "TYPE_FP32", "dims": [classes], "label_filename": "labels"],
                       ["name": "probabilities", "data_type": "TYPE_FP32", "dims": [classes], "label_filename": "labels"]],
            "dynamic_batching": ["max_queue_delay_microseconds": settings.maxQueueDelayMicroseconds,
                                 "default_queue_policy": ["max_queue_size": settings.maxQueueSize]],
            "version_policy": versionPolicyJSON(model.config.versionPolicy),
        ])
    }

    private func versionPolicyJSON(_ policy: VersionPolicy) -> [String: Any] {
        switch policy {
        case .all: return ["all": [String: Any]()]
        case .latest(let n): return ["latest": ["num_versions": n]]
        case .specific(let versions): return ["specific": ["versions": versions]]
        }
    }

    /// Triton's statistics extension.
    func modelStats(_ parameters: RouteParameters) throws -> HTTPResponse {
        var models: [LoadedModel<ServedModel>] = []
        if parameters["model"] != nil {
            models = [try served(parameters)]
        } else {
            models = repository.servedModels()
        }
        let stats = models.map { model -> [String: Any] in
            let s = model.runtime.statistics.snapshot()
            func duration(_ count: UInt64, _ ns: UInt64) -> [String: Any] { ["count": count, "ns": ns] }
            return [
                "name": model.name, "version": String(model.version),
                "last_inference": s.lastInferenceMilliseconds, "inference_count": s.inferenceCount,
                "execution_count": s.executionCount,
                "inference_stats": [
                    "success": duration(s.successCount, s.successNanoseconds),
                    "fail": duration(s.failureCount, s.failureNanoseconds),
                    "queue": duration(s.successCount, s.queueNanoseconds),
                    "compute_input": duration(s.successCount, s.preprocessNanoseconds),
                    "compute_infer": duration(s.executionCount, s.computeNanoseconds),
                    "compute_output": duration(s.successCount, 0),
                ],
                "batch_stats": s.batchSizes.sorted { $0.key < $1.key }.map { size, count in
                    ["batch_size": size, "compute_infer": duration(count, 0)] as [String: Any]
                },
            ]
        }
        return try .json(["model_stats": stats])
    }

    /// Open Inference Protocol inference. The request's JSON and binary data are decoded on the
    /// thread this runs on: a compute thread, whose batch computes there when an instance is
    /// idle, or for a small request the connection's loop (`loop`), whose batch runs there
    /// after the loop's wake-up. `completion` gets the response from the thread that ran the
    /// batch, or the error at once. Encoded images are decoded straight into the batch's input.
    func infer(_ request: HTTPRequest, _ parameters: RouteParameters, loop: ConnectionLoop?,
               completion: @escaping @Sendable (Result<HTTPResponse, Error>) -> Void) {
        let model: LoadedModel<ServedModel>
        do {
            model = try served(parameters)
        } catch {
            return completion(.failure(error))
        }
        let started = DispatchTime.now()
        let statistics = model.runtime.statistics
        let fail = { @Sendable (error: Error) in
            statistics.recordFailure(totalNanoseconds: started.nanoseconds())
            completion(.failure(error))
        }
        let decoded: InferenceRequest, input: InferenceRequest.Input, rows: Int
        do {
            var headerLength: Int?
            if let text = request.headers["inference-header-content-length"] {
                // Header values come trimmed from both transports.
                guard let value = Int(text) else {
                    throw ServiceError.badRequest("Inference-Header-Content-Length \"\(text)\" is not an integer")
                }
                headerLength = value
            }
            decoded = try InferenceRequest.decode(body: request.body, headerLength: headerLength)
            guard decoded.inputs.count == 1, let only = decoded.inputs.first, only.name == "input" else {
                throw ServiceError.badRequest(
                    "this model takes exactly one input named \"input\", got \(decoded.inputs.map { "\"\($0.name)\"" }.joined(separator: ", "))")
            }
            input = only
            rows = try model.runtime.preprocessor.rowCount(shape: input.shape, data: input.data)
        } catch {
            return fail(error)
        }
        let decodedNanoseconds = started.nanoseconds()
        let (name, version, labels) = (model.name, String(model.version), model.manifest.labels)
        let preprocessor = model.runtime.preprocessor
        model.runtime.infer(rows: rows, placement: loop.map { .afterCurrentWork($0) } ?? .caller, write: { buffer in
            try preprocessor.write(input.data, into: buffer)
        }) { result in
            do {
                let answer = try result.get()
                let outputs = try Self.outputs(for: decoded, answer: answer, labels: labels)
                let response = InferenceResponse(modelName: name, modelVersion: version, id: decoded.id, outputs: outputs)
                let (body, jsonLength) = response.encoded()
                statistics.recordSuccess(totalNanoseconds: started.nanoseconds(),
                                         preprocessingNanoseconds: decodedNanoseconds + answer.preparationNanoseconds)
                var headers: HTTPHeaders = ["content-type": jsonLength == nil ? "application/json" : "application/octet-stream"]
                if let jsonLength { headers.add(name: "inference-header-content-length", value: String(jsonLength)) }
                completion(.success(HTTPResponse(status: 200, headers: headers, body: .bytes(body))))
            } catch {
                fail(error)
            }
        }
    }

    /// The requested outputs (all, as JSON, when none are named), from a batch's view of the
    /// request's logits.
    static func outputs(for request: InferenceRequest, answer: DynamicBatcher.Answer, labels: [String]) throws -> [InferenceResponse.Output] {
        let classes = answer.resultSize
        return try request.requestedOutputs.map { output in
            var values: [Float]
            switch output.name {
            case "logits":
                values = Array(answer.results)
            case "probabilities":
                values = [Float](repeating: 0, count: answer.results.count)
                values.withUnsafeMutableBufferPointer { out in
                    for row in 0..<answer.rows {
                        _ = Softmax.probabilities(answer.row(row), into: UnsafeMutableBufferPointer(rebasing: out[row * classes..<(row + 1) * classes]))
                    }
                }
            default:
                throw ServiceError.badRequest("unknown output \"\(output.name)\"; this model has \"logits\" and \"probabilities\"")
            }
            if let k = output.classification {
                let top = min(k, classes)
                var strings: [[UInt8]] = []
                strings.reserveCapacity(answer.rows * top)
                values.withUnsafeBufferPointer { values in
                    for row in 0..<answer.rows {
                        let scores = UnsafeBufferPointer(rebasing: values[row * classes..<(row + 1) * classes])
                        for index in TopK.indices(of: scores, count: top) {
                            strings.append(Array("\(scores[index]):\(index):\(labels[index])".utf8))
                        }
                    }
                }
                return .init(name: output.name, shape: [answer.rows, top], data: .bytes(strings), binary: output.binary)
            }
            return .init(name: output.name, shape: [answer.rows, classes], data: .fp32(values), binary: output.binary)
        }
    }
}
