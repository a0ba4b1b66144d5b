/// The serving state of a model or of one of its versions.
public enum ModelState: Equatable, Sendable {
    /// Being read and built; not yet served.
    case loading
    /// Served.
    case ready
    /// Not served, with the reason (a load error, "unloaded", not selected by the policy).
    case unavailable(reason: String)
}

/// The state of one version, for status endpoints.
public struct VersionStatus: Equatable, Sendable {
    public var version: Int
    public var state: ModelState
    /// The last load error of this version's files, also when an older copy of it still serves.
    public var error: String?

    public init(version: Int, state: ModelState, error: String? = nil) {
        self.version = version
        self.state = state
        self.error = error
    }
}

/// The state of one model and its versions, for status endpoints and the repository index.
public struct ModelStatus: Equatable, Sendable {
    public var name: String
    /// `ready` when at least one version is served.
    public var state: ModelState
    /// Every version present on disk or still served, highest first.
    public var versions: [VersionStatus]
    /// A model-level problem, e.g. an invalid `config.json` (the previous configuration stays
    /// in force while a version serves).
    public var error: String?
    /// The configuration in force, nil when none could be read.
    public var config: ModelConfig?

    public init(name: String, state: ModelState, versions: [VersionStatus], error: String?, config: ModelConfig?) {
        self.name = name
        self.state = state
        self.versions = versions
        self.error = error
        self.config = config
    }
}
