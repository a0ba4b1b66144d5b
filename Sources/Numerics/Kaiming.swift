/// Kaiming (He) initialisation for layers followed by ReLU.
public enum Kaiming {
    /// A tensor of `shape` with elements drawn from N(0, 2 / fanIn), fanIn the number of inputs
    /// that feed one output (in·k·k for a convolution, in for a linear layer).
    public static func normal(shape: [Int], fanIn: Int, generator: inout SeededGenerator) -> Tensor {
        precondition(fanIn > 0, "fan-in must be positive")
        let deviation = (2.0 / Double(fanIn)).squareRoot()
        let count = shape.reduce(1, *)
        var data = [Float](repeating: 0, count: count)
        for i in 0..<count { data[i] = Float(generator.nextGaussian() * deviation) }
        return Tensor(shape: shape, data: data)
    }
}
