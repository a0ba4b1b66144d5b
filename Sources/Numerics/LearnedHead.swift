import LinearAlgebra

/// The baseline head y = x Wᵀ + b with W [C, N] (PyTorch's Linear layout) and b [C] learned.
///
/// Initialised like PyTorch's Linear: W and b uniform in ±1/√N, drawn from
/// `SeededGenerator(seed: spec.seed)` (W row-major first, then b). Input [B, N], output [B, C].
/// Parameters "weight" [C, N] and, when `spec.bias`, "bias" [C].
public final class LearnedHead: ClassificationHead {
    public let spec: HeadSpec
    /// W, [C, N], stored as "weight".
    public let weight: Parameter
    /// b, [C], stored as "bias"; nil when `spec.bias` is false.
    public let bias: Parameter?
    // The last training forward's input [B, N].
    private var cachedInput: Tensor?

    /// Builds the head with seeded weights. Throws `invalidSpec` for non-positive sizes.
    public init(_ spec: HeadSpec) throws {
        var spec = spec
        spec.kind = .learned
        try spec.validate()
        self.spec = spec
        let (n, c) = (spec.features, spec.classes)
        var generator = SeededGenerator(seed: spec.seed)
        let bound = 1 / Float(n).squareRoot()
        func draw() -> Float { (2 * generator.nextUniform() - 1) * bound }
        weight = Parameter(name: "weight", value: Tensor(shape: [c, n], data: (0..<(c * n)).map { _ in draw() }))
        bias = spec.bias ? Parameter(name: "bias", value: Tensor(shape: [c], data: (0..<c).map { _ in draw() })) : nil
    }

    public var parameters: [Parameter] { [weight, bias].compactMap { $0 } }

    /// The largest |cos| between two distinct rows of W, computed on each access (C×C×N).
    public var coherence: Float {
        let (n, c) = (spec.features, spec.classes)
        guard c > 1 else { return 0 }
        var gram = [Float](repeating: 0, count: c * c)
        weight.value.data.withUnsafeBufferPointer { w in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.gemm(.none, .transposed, m: c, n: c, k: n, a: w.baseAddress!, lda: n, b: w.baseAddress!, ldb: n,
                          c: g.baseAddress!, ldc: c)
            }
        }
        var largest: Float = 0
        for a in 0..<c {
            for b in (a + 1)..<c {
                let norms = (gram[a * c + a] * gram[b * c + b]).squareRoot()
                if norms > 0 { largest = max(largest, abs(gram[a * c + b]) / norms) }
            }
        }
        return largest
    }

    /// Logits [B, C] for features [B, N]; `training` keeps the input for `backward`.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let batch = input.shape.first ?? 0
        precondition(input.shape == [batch, spec.features], "the learned head expects [B, \(spec.features)], got \(input.shape)")
        var y = Tensor(shape: [batch, spec.classes])
        input.data.withUnsafeBufferPointer { x in
            y.data.withUnsafeMutableBufferPointer { y in infer(x.baseAddress!, batch: batch, into: y.baseAddress!) }
        }
        if training { cachedInput = input }
        return y
    }

    /// dL/dx [B, N] = g W from dL/dy = g [B, C]; accumulates dL/dW += gᵀx and dL/db += Σ rows of g.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input = cachedInput else { preconditionFailure("backward without a training forward") }
        let (batch, n, c) = (input.shape[0], spec.features, spec.classes)
        precondition(outputGradient.shape == [batch, c], "gradient shape \(outputGradient.shape) does not match [\(batch), \(c)]")
        var gx = Tensor(shape: [batch, n])
        outputGradient.data.withUnsafeBufferPointer { g in
            input.data.withUnsafeBufferPointer { x in
                weight.gradient.data.withUnsafeMutableBufferPointer { gw in
                    BLAS.gemm(.transposed, .none, m: c, n: n, k: batch, a: g.baseAddress!, lda: c, b: x.baseAddress!, ldb: n,
                              beta: 1, c: gw.baseAddress!, ldc: n)
                }
            }
            weight.value.data.withUnsafeBufferPointer { w in
                gx.data.withUnsafeMutableBufferPointer { gx in
                    BLAS.gemm(.none, .none, m: batch, n: n, k: c, a: g.baseAddress!, lda: c, b: w.baseAddress!, ldb: n,
                              c: gx.baseAddress!, ldc: n)
                }
            }
        }
        if let bias {
            for i in outputGradient.data.indices { bias.gradient.data[i % c] += outputGradient.data[i] }
        }
        return gx
    }

    /// Inference without caching: logits for `batch` rows of N features at `input` into `batch`
    /// rows of C floats at `output` (one sgemm).
    public func infer(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>) {
        let (n, c) = (spec.features, spec.classes)
        if let bias {
            bias.value.data.withUnsafeBufferPointer { b in
                for row in 0..<batch { (output + row * c).update(from: b.baseAddress!, count: c) }
            }
        }
        weight.value.data.withUnsafeBufferPointer { w in
            BLAS.gemm(.none, .transposed, m: batch, n: c, k: n, a: input, lda: n, b: w.baseAddress!, ldb: n,
                      beta: bias == nil ? 0 : 1, c: output, ldc: c)
        }
    }
}
