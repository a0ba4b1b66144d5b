/// The trained part of a fixed head: y = α·z + b over [B, C], where z is the fixed projection
/// of the normalised features.
struct FixedHeadAffine {
    /// C.
    let classes: Int
    /// α as a trained [1] tensor named "alpha", or nil when α is fixed.
    let alphaParameter: Parameter?
    /// α when it is not trained.
    let fixedAlpha: Float
    /// b as a trained [C] tensor named "bias", or nil when absent.
    let bias: Parameter?

    init(spec: HeadSpec) {
        classes = spec.classes
        fixedAlpha = spec.alpha
        alphaParameter = spec.alphaLearned ? Parameter(name: "alpha", value: Tensor(shape: [1], data: [spec.alpha])) : nil
        bias = spec.bias ? Parameter(name: "bias", value: Tensor(shape: [spec.classes])) : nil
    }

    /// The current α.
    var alpha: Float { alphaParameter?.value.data[0] ?? fixedAlpha }

    /// α (when trained) then b (when present).
    var parameters: [Parameter] { [alphaParameter, bias].compactMap { $0 } }

    /// Adds b to each of the `batch` rows of C logits at `y`.
    @inline(__always)
    func addBias(to y: UnsafeMutablePointer<Float>, batch: Int) {
        guard let bias else { return }
        bias.value.data.withUnsafeBufferPointer { b in
            for row in 0..<batch {
                let out = y + row * classes
                for c in 0..<classes { out[c] += b[c] }
            }
        }
    }

    /// Calls `body` with b's C values, or nil when the head has no bias.
    @inline(__always)
    func withBias<R>(_ body: (UnsafePointer<Float>?) -> R) -> R {
        guard let bias else { return body(nil) }
        return bias.value.data.withUnsafeBufferPointer { body($0.baseAddress!) }
    }

    /// y = α·z + b for z [B, C].
    func output(projection z: [Float], batch: Int) -> Tensor {
        var y = Tensor(shape: [batch, classes])
        let a = alpha
        for i in z.indices { y.data[i] = a * z[i] }
        y.data.withUnsafeMutableBufferPointer { addBias(to: $0.baseAddress!, batch: batch) }
        return y
    }

    /// Accumulates dL/dα = Σ g·z and dL/db = Σ over rows of g into the gradients, and returns
    /// dL/dz = α·g, all [B, C].
    func backward(_ g: Tensor, projection z: [Float]) -> [Float] {
        precondition(g.count == z.count, "gradient shape \(g.shape) does not match the last forward")
        if let alphaParameter {
            var sum: Double = 0
            for i in z.indices { sum += Double(g.data[i]) * Double(z[i]) }
            alphaParameter.gradient.data[0] += Float(sum)
        }
        if let bias {
            for i in g.data.indices { bias.gradient.data[i % classes] += g.data[i] }
        }
        let a = alpha
        return g.data.map { a * $0 }
    }
}
