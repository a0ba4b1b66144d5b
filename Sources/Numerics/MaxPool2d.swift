/// Max pooling with a square window and no padding.
///
/// Input x [B, C, H, W], output y [B, C, H', W'] with H' = (H − k) / stride + 1.
public final class MaxPool2d: Layer {
    public let kernel: Int
    public let stride: Int

    /// The input shape of the last training forward.
    private var inputShape: [Int] = []
    /// For each output element, the flat index into x of the maximum it took, [B, C, H', W'].
    private var argmax: [Int32] = []

    public init(kernel: Int, stride: Int) {
        precondition(kernel > 0 && stride > 0, "invalid pooling hyperparameters")
        self.kernel = kernel
        self.stride = stride
    }

    /// [H', W'] for an H×W plane.
    func outputPlane(height: Int, width: Int) -> (height: Int, width: Int) {
        ((height - kernel) / stride + 1, (width - kernel) / stride + 1)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[2] >= kernel && input.shape[3] >= kernel,
                     "MaxPool2d(\(kernel)) expects [B, C, H ≥ \(kernel), W ≥ \(kernel)], got \(input.shape)")
        let planes = input.shape[0] * input.shape[1]
        let (h, w) = (input.shape[2], input.shape[3])
        let (oh, ow) = outputPlane(height: h, width: w)
        var output = Tensor(shape: [input.shape[0], input.shape[1], oh, ow])
        if training {
            inputShape = input.shape
            argmax = [Int32](repeating: 0, count: output.count)
        }
        input.data.withUnsafeBufferPointer { x in
        output.data.withUnsafeMutableBufferPointer { y in
        argmax.withUnsafeMutableBufferPointer { index in
            for plane in 0..<planes {
                let base = plane * h * w
                for oy in 0..<oh {
                    for ox in 0..<ow {
                        var best = base + oy * stride * w + ox * stride
                        for ky in 0..<kernel {
                            let row = base + (oy * stride + ky) * w + ox * stride
                            for kx in 0..<kernel where x[row + kx] > x[best] { best = row + kx }
                        }
                        let o = (plane * oh + oy) * ow + ox
                        y[o] = x[best]
                        if training { index[o] = Int32(truncatingIfNeeded: best) }
                    }
                }
            }
        }}}
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(!inputShape.isEmpty && outputGradient.count == argmax.count,
                     "MaxPool2d.backward needs a training forward of the same shape first")
        var inputGradient = Tensor(shape: inputShape)
        outputGradient.data.withUnsafeBufferPointer { dy in
        argmax.withUnsafeBufferPointer { index in
        inputGradient.data.withUnsafeMutableBufferPointer { dx in
            for o in 0..<dy.count { dx[Int(index[o])] += dy[o] }
        }}}
        return inputGradient
    }
}
