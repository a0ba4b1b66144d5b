import Foundation

/// A model's serving configuration, `models/<name>/config.json`. Every field is optional in
/// JSON; a model without the file gets the defaults.
public struct ModelConfig: Codable, Equatable, Sendable {
    /// The largest batch the batcher forms for this model.
    public var maxBatchSize: Int
    /// How long the batcher waits for a batch to fill, in microseconds.
    public var maxQueueDelayMicroseconds: Int
    /// The most requests that may wait for this model; more are refused.
    public var maxQueueSize: Int
    /// Which versions are served.
    public var versionPolicy: VersionPolicy

    /// The configuration file's name inside a model directory.
    public static let fileName = "config.json"

    public init(
        maxBatchSize: Int = 32, maxQueueDelayMicroseconds: Int = 1000, maxQueueSize: Int = 256,
        versionPolicy: VersionPolicy = .latest(1)
    ) {
        self.maxBatchSize = maxBatchSize
        self.maxQueueDelayMicroseconds = maxQueueDelayMicroseconds
        self.maxQueueSize = maxQueueSize
        self.versionPolicy = versionPolicy
    }

    private enum Key: String, CodingKey { case maxBatchSize, maxQueueDelayMicroseconds, maxQueueSize, versionPolicy }

    public init(from decoder: Decoder) throws {
        let defaults = ModelConfig()
        let c = try decoder.container(keyedBy: Key.self)
        maxBatchSize = try c.decodeIfPresent(Int.self, forKey: .maxBatchSize) ?? defaults.maxBatchSize
        maxQueueDelayMicroseconds = try c.decodeIfPresent(Int.self, forKey: .maxQueueDelayMicroseconds)
            ?? defaults.maxQueueDelayMicroseconds
        maxQueueSize = try c.decodeIfPresent(Int.self, forKey: .maxQueueSize) ?? defaults.maxQueueSize
        versionPolicy = try c.decodeIfPresent(VersionPolicy.self, forKey: .versionPolicy) ?? defaults.versionPolicy
    }

    /// Reads `modelDirectory/config.json`, or the defaults when there is none.
    /// - Throws: `ModelStoreError.invalidConfig` naming the field at fault, `.io` when unreadable.
    public static func load(fromModelDirectory modelDirectory: URL) throws -> ModelConfig {
        let url = modelDirectory.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return ModelConfig() }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw ModelStoreError.io(path: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        let config: ModelConfig
        do {
            config = try JSONDecoder().decode(ModelConfig.self, from: data)
        } catch let error as DecodingError {
            let (field, problem) = Self.describe(error)
            throw ModelStoreError.invalidConfig(path: url.path, field: field, problem: problem)
        }
        try config.validate(path: url.path)
        return config
    }

    /// Checks that sizes are positive and the version policy names positive versions.
    /// - Throws: `ModelStoreError.invalidConfig` naming the field.
    public func validate(path: String = fileName) throws {
        func fail(_ field: String, _ problem: String) -> ModelStoreError {
            .invalidConfig(path: path, field: field, problem: problem)
        }
        guard maxBatchSize > 0 else { throw fail("maxBatchSize", "must be > 0, got \(maxBatchSize)") }
        guard maxQueueDelayMicroseconds >= 0 else {
            throw fail("maxQueueDelayMicroseconds", "must be ≥ 0, got \(maxQueueDelayMicroseconds)")
        }
        guard maxQueueSize > 0 else { throw fail("maxQueueSize", "must be > 0, got \(maxQueueSize)") }
        switch versionPolicy {
        case let .latest(n) where n <= 0:
            throw fail("versionPolicy.latest.numVersions", "must be > 0, got \(n)")
        case let .specific(versions) where versions.isEmpty:
            throw fail("versionPolicy.specific.versions", "must name at least one version")
        case let .specific(versions):
            if let bad = versions.first(where: { $0 <= 0 }) {
                throw fail("versionPolicy.specific.versions", "versions are positive integers, got \(bad)")
            }
        default: break
        }
    }

    private static func describe(_ error: DecodingError) -> (String, String) {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return (path(context.codingPath + [key]), "missing")
        case let .typeMismatch(type, context): return (path(context.codingPath), "expected \(type)")
        case let .valueNotFound(type, context): return (path(context.codingPath), "expected \(type), found null")
        case let .dataCorrupted(context):
            let detail = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            return (context.codingPath.isEmpty ? "(document)" : path(context.codingPath), detail)
        @unknown default: return ("(document)", "\(error)")
        }
    }
}
