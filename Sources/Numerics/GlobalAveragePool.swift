/// The mean over each channel's plane: x [B, C, H, W] → y [B, C].
public final class GlobalAveragePool: Layer {
    /// The input shape of the last forward.
    private var inputShape: [Int] = []
    /// dL/dx [B, C, H, W] of the last backward.
    private var inputGradient: [Float] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4, "GlobalAveragePool expects [B, C, H, W], got \(input.shape)")
        inputShape = input.shape
        let planes = input.shape[0] * input.shape[1]
        let spatial = input.shape[2] * input.shape[3]
        var output = Tensor(shape: [input.shape[0], input.shape[1]])
        input.data.withUnsafeBufferPointer { x in
            output.data.withUnsafeMutableBufferPointer { y in
                let scale = 1 / Float(spatial)
                for plane in 0..<planes {
                    var sum: Float = 0
                    let base = x.baseAddress! + plane * spatial
                    for i in 0..<spatial { sum += base[i] }
                    y[plane] = sum * scale
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(inputShape.count == 4 && outputGradient.shape == Array(inputShape.prefix(2)),
                     "GlobalAveragePool.backward needs a forward of the same batch first")
        let spatial = inputShape[2] * inputShape[3]
        inputGradient.prepare(count: inputShape.reduce(1, *))
        outputGradient.data.withUnsafeBufferPointer { dy in
            inputGradient.withUnsafeMutableBufferPointer { dx in
                let scale = 1 / Float(spatial)
                for plane in 0..<dy.count {
                    let v = dy[plane] * scale
                    let base = dx.baseAddress! + plane * spatial
                    for i in 0..<spatial { base[i] = v }
                }
            }
        }
        return Tensor(shape: inputShape, data: inputGradient)
    }
}
