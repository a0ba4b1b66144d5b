/// y = α·Ĥx̂ + b with x̂ = x / (‖x‖₂ + ε) and Ĥ the C rows × first N columns of the Sylvester
/// Hadamard matrix of order N′ = 2^⌈log₂ max(N, C)⌉, natural order.
///
/// Ĥ is never built: each row x is zero-padded to N′ and transformed in place by a fast
/// Walsh–Hadamard transform (O(N′ log N′) additions, its squared norm summed on the way), and the
/// logits are rows `firstRow ..< firstRow + C` of the result times α/(‖x‖₂ + ε), plus b. The
/// backward pass uses the same transform since H is symmetric. Input [B, N], output [B, C]. Only
/// α (when learned) and b (when present) are stored. Inference (`forward` with `training` false,
/// `infer`) changes no state, so it may run on several threads at once.
public final class HadamardHead: ClassificationHead {
    public let spec: HeadSpec
    /// The largest |cos| between two distinct class vectors over the N used columns: 0 when N is
    /// a power of two, otherwise the truncated rows are no longer exactly orthogonal.
    public let coherence: Float
    /// The Sylvester order N′.
    public let order: Int
    /// The Sylvester row of class 0 (1 when the all-ones row is skipped).
    public let firstRow: Int
    private let affine: FixedHeadAffine
    // The last training forward: x [B, N], ‖x‖₂ per row [B], z = Ĥx̂ [B, C].
    private var cachedInput: Tensor?
    private var cachedNorms: [Float] = []
    private var cachedProjection: [Float] = []

    /// Builds the head. Throws `moreClassesThanFeatures` when C > N, and `invalidSpec` for bad
    /// sizes or when skipping the all-ones row needs more than N′ rows.
    public init(_ spec: HeadSpec) throws {
        var spec = spec
        spec.kind = .hadamard
        try spec.validate()
        self.spec = spec
        order = spec.hadamardOrder
        firstRow = spec.hadamardFirstRow
        affine = FixedHeadAffine(spec: spec)
        coherence = Self.coherence(features: spec.features, classes: spec.classes, firstRow: firstRow, order: order)
    }

    public var parameters: [Parameter] { affine.parameters }

    /// Logits [B, C] for features [B, N]; `training` keeps what `backward` needs.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (batch, n) = (input.shape.first ?? 0, spec.features)
        precondition(input.shape == [batch, n], "the Hadamard head expects [B, \(n)], got \(input.shape)")
        guard training else {
            var y = Tensor(shape: [batch, spec.classes])
            input.data.withUnsafeBufferPointer { x in
                y.data.withUnsafeMutableBufferPointer { y in infer(x.baseAddress!, batch: batch, into: y.baseAddress!) }
            }
            return y
        }
        var norms = [Float](repeating: 0, count: batch)
        var z = [Float](repeating: 0, count: batch * spec.classes)
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: order)
        defer { buffer.deallocate() }
        input.data.withUnsafeBufferPointer { x in
            for row in 0..<batch {
                let r = FastWalshHadamard.transform(copying: x.baseAddress! + row * n, count: n, into: buffer, order: order)
                    .squareRoot()
                norms[row] = r
                let scale = 1 / (r + FeatureNormalization.epsilon)
                for c in 0..<spec.classes { z[row * spec.classes + c] = buffer[firstRow + c] * scale }
            }
        }
        cachedInput = input
        cachedNorms = norms
        cachedProjection = z
        return affine.output(projection: z, batch: batch)
    }

    /// dL/dx [B, N] from dL/dy [B, C]; accumulates dL/dα and dL/db.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("backward without a training forward") }
        let (batch, n, c) = (input.shape[0], spec.features, spec.classes)
        let gz = affine.backward(outputGradient, projection: cachedProjection)
        var gx = Tensor(shape: [batch, n])
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: order)
        defer { buffer.deallocate() }
        input.data.withUnsafeBufferPointer { x in
            gx.data.withUnsafeMutableBufferPointer { gx in
                for row in 0..<batch {
                    // Ĥᵀg: place g at the class rows of an N′ vector, transform, keep the first N.
                    buffer.update(repeating: 0, count: order)
                    for k in 0..<c { buffer[firstRow + k] = gz[row * c + k] }
                    FastWalshHadamard.transform(buffer, count: order)
                    FeatureNormalization.backward(
                        input: x.baseAddress! + row * n, norm: cachedNorms[row], gradient: buffer,
                        into: gx.baseAddress! + row * n, count: n)
                }
            }
        }
        return gx
    }

    /// Inference without caching: logits for `batch` rows of N features at `input` into `batch`
    /// rows of C floats at `output`.
    public func infer(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>) {
        let (n, c) = (spec.features, spec.classes)
        let alpha = affine.alpha
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: order)
        defer { buffer.deallocate() }
        let logits = buffer + firstRow
        affine.withBias { bias in
            for row in 0..<batch {
                // H is linear, so x is transformed as it is and its scale α/(‖x‖ + ε) is applied to
                // the C logits only: one pass over the input instead of two.
                let squares = FastWalshHadamard.transform(copying: input + row * n, count: n, into: buffer, order: order)
                let scale = alpha / (squares.squareRoot() + FeatureNormalization.epsilon)
                let out = output + row * c
                if let bias {
                    for k in 0..<c { out[k] = logits[k] * scale + bias[k] }
                } else {
                    for k in 0..<c { out[k] = logits[k] * scale }
                }
            }
        }
    }

    /// The largest |cos| between distinct used rows restricted to the first N columns.
    ///
    /// Rows a and b of H agree in column j exactly when popcount((a ⊕ b) & j) is even, so their
    /// inner product over j < N is S[a ⊕ b] with S = H·1[j < N]: one transform gives every pair.
    static func coherence(features: Int, classes: Int, firstRow: Int, order: Int) -> Float {
        guard classes > 1 else { return 0 }
        var s = [Float](repeating: 0, count: order)
        for j in 0..<features { s[j] = 1 }
        s.withUnsafeMutableBufferPointer { FastWalshHadamard.transform($0.baseAddress!, count: order) }
        var largest: Float = 0
        for a in firstRow..<(firstRow + classes) {
            for b in (a + 1)..<(firstRow + classes) { largest = max(largest, abs(s[a ^ b])) }
        }
        return largest / Float(features)
    }

    /// The dense [N, C] matrix M with Ĥx̂ = x̂ᵀM: M[j][c] = (−1)^popcount((firstRow + c) & j).
    static func matrix(_ spec: HeadSpec) -> Tensor {
        let (n, c, first) = (spec.features, spec.classes, spec.hadamardFirstRow)
        var m = Tensor(shape: [n, c])
        for j in 0..<n {
            for k in 0..<c { m.data[j * c + k] = ((first + k) & j).nonzeroBitCount % 2 == 0 ? 1 : -1 }
        }
        return m
    }
}
