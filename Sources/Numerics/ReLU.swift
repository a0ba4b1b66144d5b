/// max(0, x), elementwise, for a tensor of any shape.
public final class ReLU: Layer {
    /// The last training output, y (same shape as x): y > 0 marks where the gradient passes.
    private var output: Tensor?

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        var y = input
        y.data.withUnsafeMutableBufferPointer { v in
            for i in v.indices where v[i] < 0 { v[i] = 0 }
        }
        output = training ? y : nil
        return y
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard let output, output.shape == outputGradient.shape else {
            preconditionFailure("ReLU.backward needs a training forward of the same shape first")
        }
        var dx = outputGradient
        output.data.withUnsafeBufferPointer { y in
            dx.data.withUnsafeMutableBufferPointer { g in
                for i in g.indices where !(y[i] > 0) { g[i] = 0 }
            }
        }
        return dx
    }

    /// Which elements passed in the last training forward (for gradient checks near kinks).
    var activationPattern: [Bool] { output?.data.map { $0 > 0 } ?? [] }
}
