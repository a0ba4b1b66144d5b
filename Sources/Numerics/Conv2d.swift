import LinearAlgebra

/// A 2-D convolution with a square kernel, zero padding and an optional bias.
///
/// Input x [B, C, H, W], output y [B, O, H', W'] with H' = (H + 2·padding − k) / stride + 1.
/// Weight [O, C, k, k] (PyTorch's layout), bias [O]. Each sample is unfolded into a [K, P]
/// column matrix (K = C·k·k, P = H'·W') and multiplied by the weight viewed as [O, K] in one
/// gemm, so a sample's output does not depend on its batch neighbours.
public final class Conv2d: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let kernel: Int
    public let stride: Int
    public let padding: Int
    /// [O, C, k, k]
    public let weight: Parameter
    /// [O], or nil for a convolution without bias (one followed by BatchNorm).
    public let bias: Parameter?

    /// The last training input, x [B, C, H, W], kept for the weight gradient until `backward`.
    private var input: Tensor?
    /// y [B, O, H', W'] of the last forward.
    private var output: [Float] = []
    /// dL/dx [B, C, H, W] of the last backward.
    private var inputGradient: [Float] = []
    /// Scratch for one sample's unfolded patches, [K, P]; grows to the largest plane seen.
    private var columns: [Float] = []
    /// Scratch for one sample's column gradient, [K, P].
    private var columnGradient: [Float] = []

    /// A convolution with Kaiming-normal weights and a zero bias. `prefix` is prepended to the
    /// parameter names ("weight", "bias"), e.g. "conv1." inside a residual block.
    public init(
        inChannels: Int, outChannels: Int, kernel: Int, stride: Int = 1, padding: Int = 0, bias: Bool = true,
        prefix: String = "", generator: inout SeededGenerator
    ) {
        precondition(inChannels > 0 && outChannels > 0 && kernel > 0 && stride > 0 && padding >= 0,
                     "invalid convolution hyperparameters")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        self.weight = Parameter(
            name: prefix + "weight",
            value: Kaiming.normal(shape: [outChannels, inChannels, kernel, kernel],
                                  fanIn: inChannels * kernel * kernel, generator: &generator))
        self.bias = bias ? Parameter(name: prefix + "bias", value: Tensor(shape: [outChannels])) : nil
    }

    public var parameters: [Parameter] { bias.map { [weight, $0] } ?? [weight] }

    /// The geometry of one sample of `shape` [B, C, H, W].
    func geometry(for shape: [Int]) -> ConvolutionGeometry {
        precondition(shape.count == 4 && shape[1] == inChannels,
                     "Conv2d expects [B, \(inChannels), H, W], got \(shape)")
        return ConvolutionGeometry(inChannels: inChannels, outChannels: outChannels, kernel: kernel,
                                   stride: stride, padding: padding, inHeight: shape[2], inWidth: shape[3])
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(for: input.shape)
        let batch = input.shape[0]
        precondition(batch > 0, "empty batch")
        if !g.isPointwise && columns.count < g.patchSize * g.positions {
            columns = [Float](repeating: 0, count: g.patchSize * g.positions)
        }
        self.input = training ? input : nil
        output.prepare(count: batch * g.outputSize)
        output.withUnsafeMutableBufferPointer { y in
            input.data.withUnsafeBufferPointer { x in
                weight.value.data.withUnsafeBufferPointer { w in
                    columns.withUnsafeMutableBufferPointer { cols in
                        for b in 0..<batch {
                            g.convolve(x.baseAddress! + b * g.inputSize, weight: w.baseAddress!,
                                       into: y.baseAddress! + b * g.outputSize, columns: cols.baseAddress)
                        }
                    }
                }
            }
            if let bias {
                bias.value.data.withUnsafeBufferPointer { beta in
                    for b in 0..<batch {
                        for o in 0..<g.outChannels {
                            let row = y.baseAddress! + b * g.outputSize + o * g.positions
                            let v = beta[o]
                            for p in 0..<g.positions { row[p] += v }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outChannels, g.outHeight, g.outWidth], data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("Conv2d.backward needs a training forward first") }
        let g = geometry(for: input.shape)
        let batch = input.shape[0]
        precondition(outputGradient.shape == [batch, outChannels, g.outHeight, g.outWidth],
                     "Conv2d.backward: gradient shape \(outputGradient.shape) does not match the output")
        let k = g.patchSize, p = g.positions
        if columnGradient.count < k * p { columnGradient = [Float](repeating: 0, count: k * p) }
        if !g.isPointwise && columns.count < k * p { columns = [Float](repeating: 0, count: k * p) }
        self.input = nil
        inputGradient.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        outputGradient.data.withUnsafeBufferPointer { dy in
        weight.value.data.withUnsafeBufferPointer { w in
        weight.gradient.data.withUnsafeMutableBufferPointer { dw in
        inputGradient.withUnsafeMutableBufferPointer { dx in
        columns.withUnsafeMutableBufferPointer { cols in
        columnGradient.withUnsafeMutableBufferPointer { dcols in
            for b in 0..<batch {
                let xb = x.baseAddress! + b * g.inputSize
                let dyb = dy.baseAddress! + b * g.outputSize
                let dxb = dx.baseAddress! + b * g.inputSize
                let patches: UnsafePointer<Float>
                if g.isPointwise {
                    patches = xb
                } else {
                    g.unfold(xb, into: cols.baseAddress!)
                    patches = UnsafePointer(cols.baseAddress!)
                }
                // dW [O, K] += dy_b [O, P] · patchesᵀ [P, K]
                BLAS.gemm(.none, .transposed, m: g.outChannels, n: k, k: p, a: dyb, lda: p,
                          b: patches, ldb: p, beta: 1, c: dw.baseAddress!, ldc: k)
                // dx_b: Wᵀ [K, O] · dy_b [O, P], folded back onto the image
                if g.isPointwise {
                    BLAS.gemm(.transposed, .none, m: k, n: p, k: g.outChannels, a: w.baseAddress!, lda: k,
                              b: dyb, ldb: p, c: dxb, ldc: p)
                } else {
                    BLAS.gemm(.transposed, .none, m: k, n: p, k: g.outChannels, a: w.baseAddress!, lda: k,
                              b: dyb, ldb: p, c: dcols.baseAddress!, ldc: p)
                    dxb.update(repeating: 0, count: g.inputSize)
                    g.fold(dcols.baseAddress!, into: dxb)
                }
            }
        }}}}}}}
        if let bias {
            outputGradient.data.withUnsafeBufferPointer { dy in
                bias.gradient.data.withUnsafeMutableBufferPointer { db in
                    for b in 0..<batch {
                        for o in 0..<g.outChannels {
                            let row = dy.baseAddress! + b * g.outputSize + o * p
                            var sum: Float = 0
                            for i in 0..<p { sum += row[i] }
                            db[o] += sum
                        }
                    }
                }
            }
        }
        return Tensor(shape: input.shape, data: inputGradient)
    }
}
