import LinearAlgebra

/// A 2-D convolution with a square kernel, zero padding and an optional bias.
///
/// Input x [B, C, H, W], output y [B, O, H', W'] with H' = (H + 2·padding − k) / stride + 1.
/// Weight [O, C, k, k] (PyTorch's layout), bias [O]. Samples are unfolded (im2col) in chunks of S
/// side by side into a [K, S·P] column matrix (K = C·k·k, P = H'·W') and multiplied by the
/// weight viewed as [O, K] in one gemm per chunk. (The `InferenceEngine` instead runs one gemm
/// per sample, so that batching cannot change a sample's logits.)
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
    /// Each worker's unfolded patches of a chunk of S samples side by side [K, S·P], their
    /// gradient [K, S·P], W·columns or the output gradient gathered to match [O, S·P], and (with
    /// more than one worker) its share of dW [O, K].
    private var scratch: [ScratchBuffer] = [ScratchBuffer()]
    private var pool = WorkerPool.serial

    /// The most elements a chunk's column matrix may hold (256 KB): the columns stay in a core's
    /// L2 cache between im2col and gemm, which measured faster than larger chunks; convolutions
    /// with short patches (a first layer's K = 9) still get several samples per gemm.
    static let columnBudget = 1 << 16

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

    /// S, the samples per chunk, for a batch of `batch` samples.
    private func chunkSize(_ g: ConvolutionGeometry, batch: Int) -> Int {
        max(1, min(batch, Self.columnBudget / max(1, g.patchSize * g.positions)))
    }

    /// Unfolds samples first..<first+count of x into `columns` [K, count·P].
    private func unfold(_ x: UnsafePointer<Float>, _ g: ConvolutionGeometry, first: Int, count: Int,
                        into columns: UnsafeMutablePointer<Float>) {
        for j in 0..<count {
            g.unfold(x + (first + j) * g.inputSize, into: columns + j * g.positions, rowStride: count * g.positions)
        }
    }

    public func setWorkerPool(_ pool: WorkerPool) {
        self.pool = pool
        scratch = (0..<pool.count).map { _ in ScratchBuffer() }
    }

    /// Training and evaluation forward. Each worker takes a contiguous share of the batch, in
    /// chunks of S samples: one unfold into [K, S·P] and one gemm [O, K]·[K, S·P] per chunk, then
    /// [O, S, P] is laid out as [S, O, P].
    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        let g = geometry(for: input.shape)
        let batch = input.shape[0]
        precondition(batch > 0, "empty batch")
        let (k, p, o) = (g.patchSize, g.positions, g.outChannels)
        let chunk = chunkSize(g, batch: batch)
        output.prepare(count: batch * g.outputSize)
        self.input = training ? input : nil
        let bias = bias?.value.data
        input.data.withUnsafeBufferPointer { x in
        weight.value.data.withUnsafeBufferPointer { w in
        output.withUnsafeMutableBufferPointer { y in
            let (x, w, y) = (x.baseAddress!, w.baseAddress!, y.baseAddress!)
            pool.split(batch) { worker, samples in
                let cols = scratch[worker].reserve(k * chunk * p + o * chunk * p)
                let prod = cols + k * chunk * p
                for first in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                    let count = min(chunk, samples.upperBound - first), n = count * p
                    unfold(x, g, first: first, count: count, into: cols)
                    BLAS.gemm(.none, .none, m: o, n: n, k: k, a: w, lda: k, b: cols, ldb: n, c: prod, ldc: n)
                    for j in 0..<count {
                        for c in 0..<o {
                            let target = y + (first + j) * g.outputSize + c * p
                            let source = prod + c * n + j * p
                            if let bias {
                                let b = bias[c]
                                for i in 0..<p { target[i] = source[i] + b }
                            } else {
                                target.update(from: source, count: p)
                            }
                        }
                    }
                }
            }
        }}}
        return Tensor(shape: [batch, outChannels, g.outHeight, g.outWidth], data: output)
    }

    /// Each worker takes the same share of the batch as in `forward`; with more than one, each
    /// sums its share of dW apart, and the shares are added to the gradient in worker order.
    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("Conv2d.backward needs a training forward first") }
        let g = geometry(for: input.shape)
        let batch = input.shape[0]
        precondition(outputGradient.shape == [batch, outChannels, g.outHeight, g.outWidth],
                     "Conv2d.backward: gradient shape \(outputGradient.shape) does not match the output")
        self.input = nil
        let (k, p, o) = (g.patchSize, g.positions, g.outChannels)
        let chunk = chunkSize(g, batch: batch)
        let workers = pool.workers(for: batch)
        inputGradient.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        outputGradient.data.withUnsafeBufferPointer { dy in
        weight.value.data.withUnsafeBufferPointer { w in
        weight.gradient.data.withUnsafeMutableBufferPointer { dw in
        inputGradient.withUnsafeMutableBufferPointer { dx in
            let (x, dy, w, dw, dx) = (x.baseAddress!, dy.baseAddress!, w.baseAddress!, dw.baseAddress!, dx.baseAddress!)
            pool.split(batch) { worker, samples in
                let cols = scratch[worker].reserve(2 * k * chunk * p + o * chunk * p + (workers > 1 ? o * k : 0))
                let dcols = cols + k * chunk * p, dprod = dcols + k * chunk * p
                // One worker adds straight into the gradient, as it always has.
                let share = workers > 1 ? dprod + o * chunk * p : dw
                var beta: Float = workers > 1 ? 0 : 1
                for first in Swift.stride(from: samples.lowerBound, to: samples.upperBound, by: chunk) {
                    let count = min(chunk, samples.upperBound - first), n = count * p
                    // dy [S, O, P] gathered as [O, S·P]
                    for j in 0..<count {
                        for c in 0..<o {
                            (dprod + c * n + j * p).update(from: dy + (first + j) * g.outputSize + c * p, count: p)
                        }
                    }
                    unfold(x, g, first: first, count: count, into: cols)
                    // dW [O, K] += dy [O, S·P] · columnsᵀ [S·P, K]
                    BLAS.gemm(.none, .transposed, m: o, n: k, k: n, a: dprod, lda: n, b: cols, ldb: n,
                              beta: beta, c: share, ldc: k)
                    beta = 1
                    // dcolumns [K, S·P] = Wᵀ [K, O] · dy [O, S·P], folded back onto each image
                    BLAS.gemm(.transposed, .none, m: k, n: n, k: o, a: w, lda: k, b: dprod, ldb: n, c: dcols, ldc: n)
                    for j in 0..<count {
                        let dxj = dx + (first + j) * g.inputSize
                        dxj.update(repeating: 0, count: g.inputSize)
                        g.fold(dcols + j * p, into: dxj, rowStride: n)
                    }
                }
            }
            if workers > 1 {
                let shares = (0..<workers).map { scratch[$0].pointer + 2 * k * chunk * p + o * chunk * p }
                pool.split(o * k) { _, elements in
                    for share in shares {
                        for i in elements { dw[i] += share[i] }
                    }
                }
            }
        }}}}}
        if let bias {
            outputGradient.data.withUnsafeBufferPointer { dy in
                bias.gradient.data.withUnsafeMutableBufferPointer { db in
                    for b in 0..<batch {
                        for c in 0..<o {
                            let row = dy.baseAddress! + b * g.outputSize + c * p
                            var sum: Float = 0
                            for i in 0..<p { sum += row[i] }
                            db[c] += sum
                        }
                    }
                }
            }
        }
        return Tensor(shape: input.shape, data: inputGradient)
    }
}
