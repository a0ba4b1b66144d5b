/// Where a model came from: enough to reproduce and to judge it. Every field is optional in
/// JSON, so models made outside FixServe can leave out what they do not know.
public struct ModelProvenance: Codable, Equatable, Sendable {
    /// The training data set, e.g. `fashion-mnist`.
    public var dataset: String?
    /// The command line that trained the model.
    public var command: String?
    /// The training run's seed.
    public var seed: UInt64?
    /// Evaluation figures by name, e.g. `testAccuracy` in [0, 1].
    public var metrics: [String: Double]
    /// When the model was made, ISO 8601 UTC, e.g. `2026-11-29T01:00:00Z`.
    public var created: String?

    public init(
        dataset: String? = nil, command: String? = nil, seed: UInt64? = nil,
        metrics: [String: Double] = [:], created: String? = nil
    ) {
        self.dataset = dataset
        self.command = command
        self.seed = seed
        self.metrics = metrics
        self.created = created
    }

    private enum Key: String, CodingKey { case dataset, command, seed, metrics, created }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        dataset = try c.decodeIfPresent(String.self, forKey: .dataset)
        command = try c.decodeIfPresent(String.self, forKey: .command)
        seed = try c.decodeIfPresent(UInt64.self, forKey: .seed)
        metrics = try c.decodeIfPresent([String: Double].self, forKey: .metrics) ?? [:]
        created = try c.decodeIfPresent(String.self, forKey: .created)
    }
}
