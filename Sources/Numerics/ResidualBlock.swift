/// A residual basic block (He et al. 2016), as in CIFAR ResNet-20/56:
///
///     y = relu( bn2(conv2( relu(bn1(conv1(x))) )) + shortcut(x) )
///
/// conv1 is 3×3 with the block's stride, conv2 3×3 stride 1, both padded by 1 and without bias.
/// The shortcut is the identity when the stride is 1 and the channels match, otherwise a 1×1
/// convolution with the stride followed by BatchNorm ("projection"). Input x [B, Cin, H, W],
/// output y [B, Cout, H', W'] with H' = (H − 1) / stride + 1.
///
/// Parameter and buffer names: conv1.weight, bn1.{weight, bias, running_mean, running_var},
/// conv2.weight, bn2.…, and for a projection shortcut.conv.weight and shortcut.bn.….
public final class ResidualBlock: Layer {
    public let inChannels: Int
    public let outChannels: Int
    public let stride: Int

    let conv1: Conv2d
    let bn1: BatchNorm2d
    let relu1 = ReLU()
    let conv2: Conv2d
    let bn2: BatchNorm2d
    /// The projection, or nil for the identity.
    let shortcut: (conv: Conv2d, bn: BatchNorm2d)?
    let reluOut = ReLU()

    /// main + shortcut [B, Cout, H', W'] of the last forward.
    private var sum: [Float] = []
    /// dL/dx [B, Cin, H, W] of the last backward: main path plus shortcut.
    private var inputGradient: [Float] = []

    public init(inChannels: Int, outChannels: Int, stride: Int, generator: inout SeededGenerator) {
        precondition(inChannels > 0 && outChannels > 0 && stride > 0, "invalid residual block sizes")
        self.inChannels = inChannels
        self.outChannels = outChannels
        self.stride = stride
        conv1 = Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 3, stride: stride, padding: 1,
                       bias: false, prefix: "conv1.", generator: &generator)
        bn1 = BatchNorm2d(channels: outChannels, prefix: "bn1.")
        conv2 = Conv2d(inChannels: outChannels, outChannels: outChannels, kernel: 3, stride: 1, padding: 1,
                       bias: false, prefix: "conv2.", generator: &generator)
        bn2 = BatchNorm2d(channels: outChannels, prefix: "bn2.")
        if stride != 1 || inChannels != outChannels {
            shortcut = (Conv2d(inChannels: inChannels, outChannels: outChannels, kernel: 1, stride: stride,
                               padding: 0, bias: false, prefix: "shortcut.conv.", generator: &generator),
                        BatchNorm2d(channels: outChannels, prefix: "shortcut.bn."))
        } else {
            shortcut = nil
        }
    }

    private var batchNorms: [BatchNorm2d] { [bn1, bn2] + (shortcut.map { [$0.bn] } ?? []) }

    public var parameters: [Parameter] {
        conv1.parameters + bn1.parameters + conv2.parameters + bn2.parameters
            + (shortcut.map { $0.conv.parameters + $0.bn.parameters } ?? [])
    }

    public var buffers: [(name: String, tensor: Tensor)] { batchNorms.flatMap(\.buffers) }

    public func setBuffer(_ name: String, to tensor: Tensor) throws {
        guard let owner = batchNorms.first(where: { bn in bn.buffers.contains { $0.name == name } }) else {
            throw NumericsError.unknownTensor(name)
        }
        try owner.setBuffer(name, to: tensor)
    }

    public func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 4 && input.shape[1] == inChannels,
                     "ResidualBlock expects [B, \(inChannels), H, W], got \(input.shape)")
        let a = relu1.forward(bn1.forward(conv1.forward(input, training: training), training: training),
                              training: training)
        let main = bn2.forward(conv2.forward(a, training: training), training: training)
        let skip = shortcut.map { $0.bn.forward($0.conv.forward(input, training: training), training: training) }
            ?? input
        precondition(skip.shape == main.shape)
        add(main, skip, into: &sum)
        return reluOut.forward(Tensor(shape: main.shape, data: sum), training: training)
    }

    public func backward(_ outputGradient: Tensor) -> Tensor {
        let g = reluOut.backward(outputGradient)
        let main = bn2.backward(g)
        let dx = conv1.backward(bn1.backward(relu1.backward(conv2.backward(main))))
        let skip = shortcut.map { $0.conv.backward($0.bn.backward(g)) } ?? g
        add(dx, skip, into: &inputGradient)
        return Tensor(shape: dx.shape, data: inputGradient)
    }

    public func setWorkerPool(_ pool: WorkerPool) {
        let layers: [any Layer] = [conv1, bn1, relu1, conv2, bn2, reluOut]
            + (shortcut.map { [$0.conv, $0.bn] } ?? [])
        for layer in layers { layer.setWorkerPool(pool) }
    }

    /// The ReLU patterns of the last training forward (for gradient checks near kinks).
    var activationPattern: [Bool] { relu1.activationPattern + reluOut.activationPattern }

    /// sum = x + y, elementwise.
    private func add(_ x: Tensor, _ y: Tensor, into sum: inout [Float]) {
        sum.prepare(count: x.count)
        x.data.withUnsafeBufferPointer { a in
            y.data.withUnsafeBufferPointer { b in
                sum.withUnsafeMutableBufferPointer { s in
                    for i in 0..<s.count { s[i] = a[i] + b[i] }
                }
            }
        }
    }
}
