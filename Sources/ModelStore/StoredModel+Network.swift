import Numerics

extension StoredModel {
    /// Builds the Network this model describes and loads its tensors: the runtime a repository
    /// serving Networks passes as `makeRuntime`.
    /// - Throws: `NumericsError` when the head or the backbone cannot be built or a tensor does
    ///   not fit (a validated stored model passes).
    public func makeNetwork() throws -> Network {
        let network = try Network(
            backbone: manifest.architecture.backbone, inputShape: manifest.input.shape,
            head: makeHead(manifest.head), seed: manifest.head.seed)
        try network.load(namedTensors: tensors)
        return network
    }

    /// `network`'s parameters and buffers by full name, ready for `save(manifest:tensors:into:)`.
    public static func tensors(of network: Network) -> [String: Tensor] {
        Dictionary(network.namedTensors().map { ($0.name, $0.tensor) }, uniquingKeysWith: { first, _ in first })
    }
}
