/// A trainable tensor and the gradient accumulated for it.
///
/// Layers own their parameters as reference types so that an optimizer can update them in place.
public final class Parameter {
    /// The name under which the tensor is stored, e.g. `"weight"`; layers prefix it with their path.
    public let name: String
    /// The current value.
    public var value: Tensor
    /// The gradient of the loss with respect to `value`, same shape; zeroed by the optimizer.
    public var gradient: Tensor
    /// Whether weight decay applies. Every trainable parameter decays, α included, unless a
    /// model chooses otherwise.
    public var decays: Bool

    public init(name: String, value: Tensor, decays: Bool = true) {
        self.name = name
        self.value = value
        self.gradient = Tensor(shape: value.shape)
        self.decays = decays
    }

    /// Sets the gradient to zero.
    public func zeroGradient() {
        for i in gradient.data.indices { gradient.data[i] = 0 }
    }
}
