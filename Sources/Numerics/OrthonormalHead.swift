import LinearAlgebra

/// y = α·Qᵀx̂ + b with x̂ = x / (‖x‖₂ + ε) and Q a fixed N×C matrix with orthonormal columns.
///
/// Q is the thin-QR factor (R with a positive diagonal) of an N×C standard Gaussian sample drawn
/// row-major from `SeededGenerator(seed: spec.seed)`, so the seed alone rebuilds it; Q is never
/// stored. Input [B, N], output [B, C]. Only α (when learned) and b (when present) are stored.
/// Inference (`forward` with `training` false, `infer`) changes no state.
public final class OrthonormalHead: ClassificationHead {
    public let spec: HeadSpec
    /// Q, [N, C] row-major.
    public let q: Tensor
    private let affine: FixedHeadAffine
    // The last training forward: x [B, N], ‖x‖₂ per row [B], z = x̂Q [B, C].
    private var cachedInput: Tensor?
    private var cachedNorms: [Float] = []
    private var cachedProjection: [Float] = []

    /// Builds the head and its Q. Throws `moreClassesThanFeatures` when C > N, `invalidSpec` for
    /// bad sizes and `lapackFailure` if the QR factorisation fails.
    public init(_ spec: HeadSpec) throws {
        var spec = spec
        spec.kind = .orthonormal
        try spec.validate()
        self.spec = spec
        q = try Self.matrix(spec)
        affine = FixedHeadAffine(spec: spec)
    }

    /// The largest |cos| between two distinct columns of Q in Float arithmetic (rounding level,
    /// about 1e-7). Computed on first use: it costs one C×C×N product.
    public private(set) lazy var coherence: Float = {
        let (n, c) = (spec.features, spec.classes)
        guard c > 1 else { return 0 }
        var gram = [Float](repeating: 0, count: c * c)
        q.data.withUnsafeBufferPointer { q in
            gram.withUnsafeMutableBufferPointer { g in
                BLAS.gemm(.transposed, .none, m: c, n: c, k: n, a: q.baseAddress!, lda: c, b: q.baseAddress!, ldb: c,
                          c: g.baseAddress!, ldc: c)
            }
        }
        var largest: Float = 0
        for a in 0..<c {
            for b in (a + 1)..<c {
                largest = max(largest, abs(gram[a * c + b]) / (gram[a * c + a] * gram[b * c + b]).squareRoot())
            }
        }
        return largest
    }()

    public var parameters: [Parameter] { affine.parameters }

    /// Logits [B, C] for features [B, N]; `training` keeps what `backward` needs.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let (batch, n, c) = (input.shape.first ?? 0, spec.features, spec.classes)
        precondition(input.shape == [batch, n], "the orthonormal head expects [B, \(n)], got \(input.shape)")
        guard training else {
            var y = Tensor(shape: [batch, c])
            input.data.withUnsafeBufferPointer { x in
                y.data.withUnsafeMutableBufferPointer { y in infer(x.baseAddress!, batch: batch, into: y.baseAddress!) }
            }
            return y
        }
        var norms = [Float](repeating: 0, count: batch)
        var z = [Float](repeating: 0, count: batch * c)
        input.data.withUnsafeBufferPointer { x in
            normalize(x.baseAddress!, batch: batch, alpha: 1, norms: &norms) { normalized in
                project(normalized, batch: batch, into: &z)
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
        // dL/dx̂ [B, N] = dL/dz [B, C] · Qᵀ.
        var gxHat = [Float](repeating: 0, count: batch * n)
        gz.withUnsafeBufferPointer { g in
            q.data.withUnsafeBufferPointer { q in
                gxHat.withUnsafeMutableBufferPointer { out in
                    BLAS.gemm(.none, .transposed, m: batch, n: n, k: c, a: g.baseAddress!, lda: c,
                              b: q.baseAddress!, ldb: c, c: out.baseAddress!, ldc: n)
                }
            }
        }
        var gx = Tensor(shape: [batch, n])
        input.data.withUnsafeBufferPointer { x in
            gxHat.withUnsafeBufferPointer { g in
                gx.data.withUnsafeMutableBufferPointer { gx in
                    for row in 0..<batch {
                        FeatureNormalization.backward(
                            input: x.baseAddress! + row * n, norm: cachedNorms[row], gradient: g.baseAddress! + row * n,
                            into: gx.baseAddress! + row * n, count: n)
                    }
                }
            }
        }
        return gx
    }

    /// Inference without caching: logits for `batch` rows of N features at `input` into `batch`
    /// rows of C floats at `output`.
    public func infer(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>) {
        var norms = [Float](repeating: 0, count: batch)
        let (n, c) = (spec.features, spec.classes)
        normalize(input, batch: batch, alpha: affine.alpha, norms: &norms) { normalized in
            q.data.withUnsafeBufferPointer { q in
                BLAS.gemm(.none, .none, m: batch, n: c, k: n, a: normalized, lda: n, b: q.baseAddress!, ldb: c,
                          c: output, ldc: c)
            }
        }
        affine.addBias(to: output, batch: batch)
    }

    /// Calls `body` with α·x̂ [B, N] in a temporary buffer, storing ‖x‖₂ per row in `norms`.
    private func normalize(
        _ x: UnsafePointer<Float>, batch: Int, alpha: Float, norms: inout [Float],
        _ body: (UnsafePointer<Float>) -> Void
    ) {
        let n = spec.features
        let buffer = UnsafeMutablePointer<Float>.allocate(capacity: batch * n)
        defer { buffer.deallocate() }
        for row in 0..<batch {
            let r = FeatureNormalization.norm(x + row * n, count: n)
            norms[row] = r
            FeatureNormalization.scaleAndPad(
                x + row * n, count: n, scale: alpha / (r + FeatureNormalization.epsilon), into: buffer + row * n,
                paddedCount: n)
        }
        body(buffer)
    }

    /// z [B, C] = x̂ [B, N] · Q [N, C].
    private func project(_ xHat: UnsafePointer<Float>, batch: Int, into z: inout [Float]) {
        let (n, c) = (spec.features, spec.classes)
        q.data.withUnsafeBufferPointer { q in
            z.withUnsafeMutableBufferPointer { z in
                BLAS.gemm(.none, .none, m: batch, n: c, k: n, a: xHat, lda: n, b: q.baseAddress!, ldb: c,
                          c: z.baseAddress!, ldc: c)
            }
        }
    }

    /// Q [N, C] for `spec`: the orthonormalised seeded Gaussian sample.
    static func matrix(_ spec: HeadSpec) throws -> Tensor {
        let (n, c) = (spec.features, spec.classes)
        var generator = SeededGenerator(seed: spec.seed)
        var sample = (0..<(n * c)).map { _ in generator.nextGaussian() }
        do {
            try LAPACK.orthonormalizeColumns(&sample, rows: n, columns: c)
        } catch let failure as LAPACK.Failure {
            throw NumericsError.lapackFailure(routine: failure.routine, info: failure.info)
        }
        return Tensor(shape: [n, c], data: sample.map { Float($0) })
    }
}
