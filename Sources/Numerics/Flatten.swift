/// x [B, d₁, d₂, …] → y [B, d₁·d₂·…]; the elements keep their order.
public final class Flatten: Layer {
    /// The input shape of the last forward.
    private var inputShape: [Int] = []

    public init() {}

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank >= 1, "Flatten needs a batch dimension")
        inputShape = input.shape
        return input.reshaped([input.shape[0], input.shape.dropFirst().reduce(1, *)])
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        precondition(outputGradient.count == inputShape.reduce(1, *) && !inputShape.isEmpty,
                     "Flatten.backward needs a forward of the same batch first")
        return outputGradient.reshaped(inputShape)
    }
}
