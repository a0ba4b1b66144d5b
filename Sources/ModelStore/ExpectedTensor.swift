/// A tensor that a manifest's architecture needs, with the shape it must have.
public struct ExpectedTensor: Equatable, Sendable {
    /// Which part of the model the tensor belongs to.
    public enum Part: String, Sendable { case backbone, head }

    /// The name in `model.safetensors`, e.g. `backbone.0.weight`, `head.bias`.
    public var name: String
    public var shape: [Int]
    public var part: Part
    /// True for running statistics (BatchNorm's running_mean/var): stored, but not trained.
    public var isBuffer: Bool

    public init(name: String, shape: [Int], part: Part, isBuffer: Bool = false) {
        self.name = name
        self.shape = shape
        self.part = part
        self.isBuffer = isBuffer
    }

    /// The number of elements.
    public var count: Int { shape.reduce(1, *) }
}
