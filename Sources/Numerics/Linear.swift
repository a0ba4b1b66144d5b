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
    private var pool = WorkerPool.serial

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

    public func setWorkerPool(_ pool: WorkerPool) { self.pool = pool }

    /// Each worker multiplies its share of the batch's rows.
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == inFeatures && input.shape[0] > 0,
                     "Linear expects [B, \(inFeatures)], got \(input.shape)")
        let batch = input.shape[0]
        let (inFeatures, outFeatures) = (inFeatures, outFeatures)
        self.input = training ? input : nil
        output.prepare(count: batch * outFeatures)
        let bias = bias?.value.data
        input.data.withUnsafeBufferPointer { x in
        weight.value.data.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
            let (x, w, y) = (x.baseAddress!, w.baseAddress!, y.baseAddress!)
            pool.split(batch) { _, rows in
                // y [rows, O] = x [rows, I] · Wᵀ [I, O]
                BLAS.gemm(.none, .transposed, m: rows.count, n: outFeatures, k: inFeatures,
                          a: x + rows.lowerBound * inFeatures, lda: inFeatures, b: w, ldb: inFeatures,
                          c: y + rows.lowerBound * outFeatures, ldc: outFeatures)
                if let bias {
                    for row in rows {
                        let out = y + row * outFeatures
                        for o in 0..<outFeatures { out[o] += bias[o] }
                    }
                }
            }
        }}}
        return Tensor(shape: [batch, outFeatures], data: output)
    }

    /// The weight gradient is split by output rows (each row sums over the whole batch in one
    /// product), the input gradient by samples.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("Linear.backward needs a training forward first") }
        let batch = input.shape[0]
        let (inFeatures, outFeatures) = (inFeatures, outFeatures)
        precondition(outputGradient.shape == [batch, outFeatures],
                     "Linear.backward: gradient shape \(outputGradient.shape), expected \([batch, outFeatures])")
        self.input = nil
        inputGradient.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        outputGradient.data.withUnsafeBufferPointer { dy in
        weight.value.data.withUnsafeBufferPointer { w in
        weight.gradient.data.withUnsafeMutableBufferPointer { dw in
        inputGradient.withUnsafeMutableBufferPointer { dx in
            let (x, dy, w, dw, dx) = (x.baseAddress!, dy.baseAddress!, w.baseAddress!, dw.baseAddress!, dx.baseAddress!)
            pool.split(outFeatures) { _, outputs in
                // dW [outputs, I] += dyᵀ [outputs, B] · x [B, I]
                BLAS.gemm(.transposed, .none, m: outputs.count, n: inFeatures, k: batch,
                          a: dy + outputs.lowerBound, lda: outFeatures, b: x, ldb: inFeatures,
                          beta: 1, c: dw + outputs.lowerBound * inFeatures, ldc: inFeatures)
            }
            pool.split(batch) { _, rows in
                // dx [rows, I] = dy [rows, O] · W [O, I]
                BLAS.gemm(.none, .none, m: rows.count, n: inFeatures, k: outFeatures,
                          a: dy + rows.lowerBound * outFeatures, lda: outFeatures, b: w, ldb: inFeatures,
                          c: dx + rows.lowerBound * inFeatures, ldc: inFeatures)
            }
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
