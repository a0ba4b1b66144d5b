/// The kind of classification head.
public enum HeadKind: String, Codable, Sendable, CaseIterable {
    /// y = Wᵀx + b with W learned: the baseline.
    case learned
    /// y = α·Qᵀx̂ + b, Q a fixed seeded random N×C matrix with orthonormal columns.
    case orthonormal
    /// y = α·Ĥx̂ + b, Ĥ rows of the Sylvester Hadamard matrix, applied by a fast Walsh–Hadamard transform.
    case hadamard
}

/// Everything needed to rebuild a classification head; fixed heads store no matrix, only this.
public struct HeadSpec: Codable, Equatable, Sendable {
    public var kind: HeadKind
    /// Feature width N (the backbone's output).
    public var features: Int
    /// Number of classes C.
    public var classes: Int
    /// The initial value of α when `alphaLearned`, else its fixed value. Unused by `learned`.
    public var alpha: Float
    /// Whether α is trained (with weight decay like every other parameter).
    public var alphaLearned: Bool
    /// Whether the bias b is present (it is always learned when present).
    public var bias: Bool
    /// The seed of the Gaussian sample behind Q (`orthonormal`) or of W's initialisation (`learned`).
    public var seed: UInt64
    /// `hadamard` only: skip row 0 of the Sylvester matrix (all ones), using rows 1…C.
    public var skipAllOnesRow: Bool

    public init(
        kind: HeadKind, features: Int, classes: Int, alpha: Float = 1, alphaLearned: Bool = true,
        bias: Bool = true, seed: UInt64 = 0, skipAllOnesRow: Bool = true
    ) {
        self.kind = kind
        self.features = features
        self.classes = classes
        self.alpha = alpha
        self.alphaLearned = alphaLearned
        self.bias = bias
        self.seed = seed
        self.skipAllOnesRow = skipAllOnesRow
    }
}
