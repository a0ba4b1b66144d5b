import Foundation
import HTTPServer
import ModelStore
import Numerics

/// FixServe's model info (`/v1/models`) and the model-repository extension (`/v2/repository`).
extension ModelService {
    func modelList() throws -> HTTPResponse {
        try .json(["models": repository.statuses().map(Self.statusJSON)])
    }

    func modelInfo(_ parameters: RouteParameters) throws -> HTTPResponse {
        let name = parameters["model"] ?? ""
        guard let status = repository.status(of: name) else { throw ModelStoreError.modelNotFound(name) }
        var body = Self.statusJSON(status)
        if let model = try? repository.snapshot(name) {
            let manifest = model.manifest
            let head = manifest.head
            let count = manifest.parameterCount
            let learnedHeadBytes = (head.features * head.classes + head.classes) * 4
            body["served_version"] = model.version
            body["input"] = [
                "shape": manifest.input.shape, "color_mode": manifest.input.colorMode.rawValue,
                "resize": manifest.input.resize.rawValue, "mean": manifest.input.mean, "std": manifest.input.std,
                "accepts": ["FP32 [-1, C, H, W] normalised", "UINT8 [-1, H, W] or [-1, H, W, C] raw pixels", "BYTES [-1] PNG or JPEG"],
            ]
            body["labels"] = manifest.labels
            body["backbone"] = manifest.architecture.backbone.map { spec -> String in
                let data = (try? JSONEncoder().encode(spec)).map { String(decoding: $0, as: UTF8.self) }
                return data ?? "\(spec)"
            }
            var headJSON: [String: Any] = [
                "type": head.kind.rawValue, "features": head.features, "classes": head.classes,
                "alpha": model.runtime.alpha.map { Double($0) } ?? Double(head.alpha), "alpha_learned": head.alphaLearned,
                "bias": head.bias, "coherence": Double(model.runtime.coherence),
                "stored_bytes": head.storedHeadBytes, "learned_head_bytes": learnedHeadBytes,
            ]
            if head.kind == .orthonormal { headJSON["seed"] = head.seed }
            if head.kind == .hadamard { headJSON["skip_all_ones_row"] = head.skipAllOnesRow }
            body["head"] = headJSON
            body["parameters"] = [
                "total": count.total, "backbone": count.backbone, "head": count.head,
                "head_share": count.total > 0 ? Double(count.head) / Double(count.total) : 0,
                "learned_head_would_be": head.features * head.classes + head.classes,
            ]
            let settings = model.runtime.batcher.settings
            body["batching"] = ["max_batch_size": settings.maxBatchSize, "max_queue_delay_us": settings.maxQueueDelayMicroseconds,
                                "max_queue_size": settings.maxQueueSize]
            var card: [String: Any] = ["metrics": manifest.provenance.metrics]
            if let dataset = manifest.provenance.dataset { card["dataset"] = dataset }
            if let command = manifest.provenance.command { card["command"] = command }
            if let seed = manifest.provenance.seed { card["seed"] = seed }
            if let created = manifest.provenance.created { card["created"] = created }
            body["model_card"] = card
        }
        return try .json(body)
    }

    static func statusJSON(_ status: ModelStatus) -> [String: Any] {
        var json: [String: Any] = [
            "name": status.name, "state": stateText(status.state),
            "versions": status.versions.map { version -> [String: Any] in
                var v: [String: Any] = ["version": version.version, "state": stateText(version.state)]
                if case .unavailable(let reason) = version.state { v["reason"] = reason }
                if let error = version.error { v["error"] = error }
                return v
            },
        ]
        if let error = status.error { json["error"] = error }
        return json
    }

    static func stateText(_ state: ModelState) -> String {
        switch state {
        case .loading: return "LOADING"
        case .ready: return "READY"
        case .unavailable: return "UNAVAILABLE"
        }
    }

    /// The repository index in the model-repository extension's form.
    func repositoryIndex() throws -> HTTPResponse {
        let index = repository.statuses().flatMap { status -> [[String: Any]] in
            if status.versions.isEmpty {
                return [["name": status.name, "state": Self.stateText(status.state)]]
            }
            return status.versions.map { version in
                var entry: [String: Any] = ["name": status.name, "version": String(version.version), "state": Self.stateText(version.state)]
                if case .unavailable(let reason) = version.state { entry["reason"] = reason }
                return entry
            }
        }
        return try .json(index)
    }

    func loadModel(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try Self.requireJSON(request, allowingEmpty: true)
        let name = parameters["model"] ?? ""
        guard ModelName.isValid(name) else { throw ServiceError.badRequest("model name \"\(name)\" is not valid") }
        try repository.load(name)
        guard let status = repository.status(of: name), status.state == .ready else {
            let reason = repository.status(of: name).map { Self.reasonText($0) } ?? "no such model"
            throw ServiceError.badRequest("failed to load model \(name): \(reason)")
        }
        return try .json([String: Any]())
    }

    func unloadModel(_ request: HTTPRequest, _ parameters: RouteParameters) throws -> HTTPResponse {
        try Self.requireJSON(request, allowingEmpty: true)
        try repository.unload(parameters["model"] ?? "")
        return try .json([String: Any]())
    }

    private static func reasonText(_ status: ModelStatus) -> String {
        if let error = status.error { return error }
        if let versionError = status.versions.compactMap(\.error).first { return versionError }
        if case .unavailable(let reason) = status.state { return reason }
        return "not ready"
    }
}
