/// What the repository knows of one version's files.
struct VersionRecord {
    var state: ModelState
    /// The last load error of the files with `fingerprint`.
    var error: String?
    /// The files' fingerprint when last loaded or tried; nil when never tried.
    var fingerprint: String?

    init(state: ModelState, error: String? = nil, fingerprint: String? = nil) {
        self.state = state
        self.error = error
        self.fingerprint = fingerprint
    }
}

/// What the repository knows of one model: configuration, served snapshots, version states.
struct ModelRecord<Runtime> {
    var config: ModelConfig?
    var configFingerprint: String?
    /// A model-level problem (bad config.json, unreadable directory).
    var error: String?
    /// The versions being served.
    var served: [Int: LoadedModel<Runtime>] = [:]
    var versions: [Int: VersionRecord] = [:]
    /// Set by `unload`: polling leaves the model alone until an explicit load.
    var unloaded = false

    mutating func unload() {
        unloaded = true
        served = [:]
        for version in versions.keys {
            versions[version]!.state = .unavailable(reason: "unloaded")
            versions[version]!.fingerprint = nil
        }
    }

    func status(name: String) -> ModelStatus {
        let versionStatuses = versions.keys.sorted(by: >).map {
            VersionStatus(version: $0, state: versions[$0]!.state, error: versions[$0]!.error)
        }
        let state: ModelState
        if !served.isEmpty {
            state = .ready
        } else if versions.values.contains(where: { $0.state == .loading }) {
            state = .loading
        } else if unloaded {
            state = .unavailable(reason: "unloaded")
        } else if let error {
            state = .unavailable(reason: error)
        } else if let failing = versionStatuses.first(where: { $0.error != nil })?.error {
            state = .unavailable(reason: failing)
        } else {
            state = .unavailable(reason: "no version directories")
        }
        return ModelStatus(name: name, state: state, versions: versionStatuses, error: error, config: config)
    }
}

extension LoadedModel {
    /// The same snapshot under a new configuration (the runtime is shared, not rebuilt).
    func with(_ config: ModelConfig) -> LoadedModel {
        LoadedModel(name: name, version: version, manifest: manifest, location: location, config: config, runtime: runtime)
    }
}
