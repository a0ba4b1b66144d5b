/// Inverted dropout: in training each element is zeroed with probability p and the survivors are
/// scaled by 1/(1 − p), so evaluation is the identity. Any shape.
public final class Dropout: Layer {
    public let probability: Float
    /// The source of the masks; saving and restoring it replays the same mask.
    public var generator: SeededGenerator

    /// The last training mask, 0 or 1/(1 − p) per element; empty after an evaluation forward.
    private var mask: [Float] = []
    private var output: [Float] = []
    private var inputGradient: [Float] = []

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
        mask.prepare(count: input.count)
        output.prepare(count: input.count)
        input.data.withUnsafeBufferPointer { x in
        mask.withUnsafeMutableBufferPointer { m in
        output.withUnsafeMutableBufferPointer { y in
            for i in 0..<y.count {
                let scale: Float = generator.nextUniform() < probability ? 0 : keep
                m[i] = scale
                y[i] = x[i] * scale
            }
        }}}
        return Tensor(shape: input.shape, data: output)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        guard !mask.isEmpty else { return outputGradient }
        precondition(mask.count == outputGradient.count, "Dropout.backward: gradient does not match the last forward")
        inputGradient.prepare(count: mask.count)
        outputGradient.data.withUnsafeBufferPointer { dy in
        mask.withUnsafeBufferPointer { m in
        inputGradient.withUnsafeMutableBufferPointer { dx in
            for i in 0..<dx.count { dx[i] = dy[i] * m[i] }
        }}}
        return Tensor(shape: outputGradient.shape, data: inputGradient)
    }
}
