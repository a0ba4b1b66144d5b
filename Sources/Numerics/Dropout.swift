/// Inverted dropout: in training each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so evaluation is the identity. Any shape.
public final class Dropout: Layer {
    public let probability: Float
    /// The source of the masks; saving and restoring it replays the same mask.
    public var generator: SeededGenerator

    /// The last training mask, 0 or 1/(1 − p) per element; empty after an evaluation forward.
    private var mask: [Float] = []

    public init(probability: Float, generator: SeededGenerator) {
        precondition(probability >= 0 && probability < 1, "dropout probability must be in [0, 1)")
        self.probability = probability
        self.generator = generator
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        guard training, probability > 0 else {
            mask = []
            return input
        }
        let keep = 1 / (1 - probability)
        mask = [Float](repeating: 0, count: input.count)
        var output = input
        mask.withUnsafeMutableBufferPointer { m in
            output.data.withUnsafeMutableBufferPointer { y in
                for i in 0..<y.count {
                    let scale: Float = generator.nextUniform() < probability ? 0 : keep
                    m[i] = scale
                    y[i] *= scale
                }
            }
        }
        return output
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard !mask.isEmpty else { return outputGradient }
        precondition(mask.count == outputGradient.count, "Dropout.backward: gradient does not match the last forward")
        var dx = outputGradient
        mask.withUnsafeBufferPointer { m in
            dx.data.withUnsafeMutableBufferPointer { g in
                for i in 0..<g.count { g[i] *= m[i] }
            }
        }
        return dx
    }
}
