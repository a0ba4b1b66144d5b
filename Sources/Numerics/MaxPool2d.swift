/// Max pooling with a square window and no padding.
///
/// Input x [B, C, H, W], output y [B, C, H', W'] with H' = (H − k) / stride + 1.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int

    /// The input shape of the last training forward.
    private var inputShape: [Int] = []
    /// For each output element of the last training forward, the flat index into x of the
    /// maximum it took, [B, C, H', W'].
    private var argmax: [Int32] = []
    /// y [B, C, H', W'] of the last forward.
    private var output: [Float] = []
    /// dL/dx [B, C, H, W] of the last backward.
    private var inputGradient: [Float] = []
    private var pool = WorkerPool.serial

    public init(kernel: Int, stride: Int) {
        precondition(kernel > 0 && stride > 0, "invalid pooling hyperparameters")
        self.kernel = kernel
        self.stride = stride
    }

    public func setWorkerPool(_ pool: WorkerPool) { self.pool = pool }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[2] >= kernel && input.shape[3] >= kernel,
                     "MaxPool2d(\(kernel)) expects [B, C, H ≥ \(kernel), W ≥ \(kernel)], got \(input.shape)")
        precondition(input.count <= Int(Int32.max), "MaxPool2d indexes its input with 32-bit offsets")
        let planes = input.shape[0] * input.shape[1]
        let (h, w) = (input.shape[2], input.shape[3])
        let (oh, ow) = ((h - kernel) / stride + 1, (w - kernel) / stride + 1)
        let count = planes * oh * ow
        output.prepare(count: count)
        argmax.prepare(count: count)
        inputShape = training ? input.shape : []
        let (k, s) = (kernel, stride)
        input.data.withUnsafeBufferPointer { x in
        output.withUnsafeMutableBufferPointer { y in
        argmax.withUnsafeMutableBufferPointer { index in
            let (x, y, index) = (x.baseAddress!, y.baseAddress!, index.baseAddress!)
            pool.split(planes) { _, planes in
                if k == 2 && s == 2 {
                    Self.pool2x2(x, width: w, height: h, planes: planes, into: y, indices: index)
                    return
                }
                for plane in planes {
                    let base = plane * h * w
                    for oy in 0..<oh {
                        let o = (plane * oh + oy) * ow
                        for ox in 0..<ow {
                            var best = base + oy * s * w + ox * s
                            var value = x[best]
                            for ky in 0..<k {
                                let row = base + (oy * s + ky) * w + ox * s
                                for kx in 0..<k where x[row + kx] > value {
                                    best = row + kx
                                    value = x[best]
                                }
                            }
                            y[o + ox] = value
                            index[o + ox] = Int32(truncatingIfNeeded: best)
                        }
                    }
                }
            }
        }}}
        return Tensor(shape: [input.shape[0], input.shape[1], oh, ow], data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(!inputShape.isEmpty && outputGradient.count == argmax.count,
                     "MaxPool2d.backward needs a training forward of the same shape first")
        inputGradient.prepare(count: inputShape.reduce(1, *))
        // Every window lies inside its own plane, so planes can be scattered independently.
        let planes = inputShape[0] * inputShape[1]
        let planeIn = inputShape[2] * inputShape[3], planeOut = argmax.count / planes
        outputGradient.data.withUnsafeBufferPointer { dy in
        argmax.withUnsafeBufferPointer { index in
        inputGradient.withUnsafeMutableBufferPointer { dx in
            let (dy, index, dx) = (dy.baseAddress!, index.baseAddress!, dx.baseAddress!)
            pool.split(planes) { _, planes in
                (dx + planes.lowerBound * planeIn).update(repeating: 0, count: planes.count * planeIn)
                for o in (planes.lowerBound * planeOut)..<(planes.upperBound * planeOut) { dx[Int(index[o])] += dy[o] }
            }
        }}}
        return Tensor(shape: inputShape, data: inputGradient)
    }

    /// The common 2×2/2 window without the general loops, which were most of the layer's time;
    /// the same rule: the first of equal maxima wins, and a NaN only when it comes first.
    private static func pool2x2(
        _ x: UnsafePointer<Float>, width w: Int, height h: Int, planes: Range<Int>,
        into y: UnsafeMutablePointer<Float>, indices: UnsafeMutablePointer<Int32>
    ) {
        let (oh, ow) = (h / 2, w / 2)
        for plane in planes {
            let base = plane * h * w
            for oy in 0..<oh {
                let o = (plane * oh + oy) * ow
                let top = base + 2 * oy * w, bottom = top + w
                for ox in 0..<ow {
                    let candidates = (top + 2 * ox, top + 2 * ox + 1, bottom + 2 * ox, bottom + 2 * ox + 1)
                    var best = candidates.0, value = x[best]
                    if x[candidates.1] > value { best = candidates.1; value = x[best] }
                    if x[candidates.2] > value { best = candidates.2; value = x[best] }
                    if x[candidates.3] > value { best = candidates.3; value = x[best] }
                    y[o + ox] = value
                    indices[o + ox] = Int32(truncatingIfNeeded: best)
                }
            }
        }
    }
}
