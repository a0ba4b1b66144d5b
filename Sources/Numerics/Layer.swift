/// One differentiable step of a network.
///
/// `forward` caches what `backward` needs; `backward` takes dL/d(output), accumulates dL/dθ into
/// each parameter's gradient and returns dL/d(input). A layer is used by one thread at a time.
public protocol Layer: AnyObject {
    /// Computes the output for a batch. `training` selects batch statistics, dropout and caching.
    func forward(_ input: Tensor, training: Bool) -> Tensor
    /// Propagates the gradient of the loss from the output of the last `forward` to its input.
    func backward(_ outputGradient: Tensor) -> Tensor
    /// The trainable parameters, in a stable order.
    var parameters: [Parameter] { get }
    /// State that is stored with the model but not trained (BatchNorm running statistics),
    /// by name.
    var buffers: [(name: String, tensor: Tensor)] { get }
    /// Replaces a buffer's value on load; the layer validates the shape.
    func setBuffer(_ name: String, to tensor: Tensor) throws
    /// Shares the layer's loops among `pool`'s workers from the next forward on; layers whose
    /// work is too small to split ignore it.
    func setWorkerPool(_ pool: WorkerPool)
}

extension Layer {
    public var parameters: [Parameter] { [] }
    public var buffers: [(name: String, tensor: Tensor)] { [] }
    public func setBuffer(_ name: String, to tensor: Tensor) throws {
        throw NumericsError.unknownTensor(name)
    }
    public func setWorkerPool(_ pool: WorkerPool) {}
}
