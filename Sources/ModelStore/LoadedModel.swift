import Foundation

/// A served model version: an immutable snapshot. A request holds on to one for its whole life,
/// so a hot swap never changes the version under a request in flight.
public final class LoadedModel<Runtime> {
    public let name: String
    public let version: Int
    public let manifest: ModelManifest
    /// The version directory the model was read from.
    public let location: URL
    /// The model's serving configuration at load time.
    public let config: ModelConfig
    /// What `makeRuntime` built from the stored model (e.g. a Network).
    public let runtime: Runtime

    public init(name: String, version: Int, manifest: ModelManifest, location: URL, config: ModelConfig, runtime: Runtime) {
        self.name = name
        self.version = version
        self.manifest = manifest
        self.location = location
        self.config = config
        self.runtime = runtime
    }
}

// Every stored property is an immutable `let`; the runtime's own thread-safety is its type's.
extension LoadedModel: @unchecked Sendable where Runtime: Sendable {}
