import LinearAlgebra

/// A fully connected layer, y = x Wᵀ + b.
///
/// Input x [B, I], output y [B, O]; weight W [O, I] (PyTorch's layout), bias b [O]. The whole
/// batch goes through one gemm.
public final class Linear: Layer {
    public let inFeatures: Int
    public let outFeatures: Int
    /// [O, I]
    public let weight: Parameter
    /// [O], or nil.
    public let bias: Parameter?

    /// The last training input, x [B, I], released by `backward`.
    private var input: Tensor?
    /// y [B, O] of the last forward.
    private var output: [Float] = []
    /// dL/dx [B, I] of the last backward.
    private var inputGradient: [Float] = []

    /// A layer with Kaiming-normal weights and a zero bias. `prefix` is prepended to the
    /// parameter names ("weight", "bias").
    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, prefix: String = "",
                generator: inout SeededGenerator) {
        precondition(inFeatures > 0 && outFeatures > 0, "invalid linear layer sizes")
        self.inFeatures = inFeatures
        self.outFeatures = outFeatures
        self.weight = Parameter(
            name: prefix + "weight",
            value: Kaiming.normal(shape: [outFeatures, inFeatures], fanIn: inFeatures, generator: &generator))
        self.bias = bias ? Parameter(name: prefix + "bias", value: Tensor(shape: [outFeatures])) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures && input.shape[0] > 0,
                     "Linear expects [B, \(inFeatures)], got \(input.shape)")
        let batch = input.shape[0]
        self.input = training ? input : nil
        output.prepare(count: batch * outFeatures)
        input.data.withUnsafeBufferPointer { x in
            weight.value.data.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    // y [B, O] = x [B, I] · Wᵀ [I, O]
                    BLAS.gemm(.none, .transposed, m: batch, n: outFeatures, k: inFeatures,
                              a: x.baseAddress!, lda: inFeatures, b: w.baseAddress!, ldb: inFeatures,
                              c: y.baseAddress!, ldc: outFeatures)
                    if let bias {
                        bias.value.data.withUnsafeBufferPointer { beta in
                            for row in 0..<batch {
                                let out = y.baseAddress! + row * outFeatures
                                for o in 0..<outFeatures { out[o] += beta[o] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outFeatures], data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("Linear.backward needs a training forward first") }
        let batch = input.shape[0]
        precondition(outputGradient.shape == [batch, outFeatures],
                     "Linear.backward: gradient shape \(outputGradient.shape), expected \([batch, outFeatures])")
        self.input = nil
        inputGradient.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        outputGradient.data.withUnsafeBufferPointer { dy in
        weight.value.data.withUnsafeBufferPointer { w in
        weight.gradient.data.withUnsafeMutableBufferPointer { dw in
        inputGradient.withUnsafeMutableBufferPointer { dx in
            // dW [O, I] += dyᵀ [O, B] · x [B, I]
            BLAS.gemm(.transposed, .none, m: outFeatures, n: inFeatures, k: batch,
                      a: dy.baseAddress!, lda: outFeatures, b: x.baseAddress!, ldb: inFeatures,
                      beta: 1, c: dw.baseAddress!, ldc: inFeatures)
            // dx [B, I] = dy [B, O] · W [O, I]
            BLAS.gemm(.none, .none, m: batch, n: inFeatures, k: outFeatures,
                      a: dy.baseAddress!, lda: outFeatures, b: w.baseAddress!, ldb: inFeatures,
                      c: dx.baseAddress!, ldc: inFeatures)
        }}}}}
        if let bias {
            outputGradient.data.withUnsafeBufferPointer { dy in
                bias.gradient.data.withUnsafeMutableBufferPointer { db in
                    for row in 0..<batch {
                        let g = dy.baseAddress! + row * outFeatures
                        for o in 0..<outFeatures { db[o] += g[o] }
                    }
                }
            }
        }
        return Tensor(shape: input.shape, data: inputGradient)
    }
}
