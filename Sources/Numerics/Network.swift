/// A classifier: a backbone of layers built from specs, then a classification head.
///
/// Input [B, ...inputShape] (e.g. [B, 1, 28, 28] or [B, 784]) → backbone → features [B, N] →
/// head → logits [B, classes]. Stored tensors are named "backbone.<index>.<name>" (e.g.
/// "backbone.0.weight", "backbone.1.running_mean", "backbone.3.conv1.weight",
/// "backbone.3.shortcut.bn.weight") and "head.<name>".
public final class Network {
    /// The trainable parameter counts, in elements.
    public struct ParameterCount: Equatable, Sendable {
        public var backbone: Int
        public var head: Int
        public var total: Int { backbone + head }

        public init(backbone: Int, head: Int) {
            self.backbone = backbone
            self.head = head
        }
    }

    /// What the backbone was built from.
    public let specs: [LayerSpec]
    /// The shape of one input sample, without the batch dimension.
    public let inputShape: [Int]
    /// The backbone's layers, one per spec.
    public let backbone: [any Layer]
    /// The classifier on the backbone's [B, N] features.
    public let head: any ClassificationHead

    /// Builds the backbone with weights drawn from `generator` and checks that it maps
    /// `inputShape` to the head's N features.
    ///
    /// - Throws: `NumericsError.invalidSpec` if a spec is out of range, a layer does not fit its
    ///   input, or the backbone's output is not [head.spec.features].
    public init(
        backbone specs: [LayerSpec], inputShape: [Int], head: any ClassificationHead,
        generator: inout SeededGenerator
    ) throws {
        guard !inputShape.isEmpty && inputShape.allSatisfy({ $0 > 0 && $0 <= LayerSpec.maximumSize }) else {
            throw NumericsError.invalidSpec("input shape must have positive dimensions, got \(inputShape)")
        }
        let features = try LayerSpec.outputShape(of: specs, for: inputShape)
        guard features == [head.spec.features] else {
            throw NumericsError.invalidSpec(
                "the backbone maps \(inputShape) to \(features), but the head expects [\(head.spec.features)]"
                    + (features.count > 1 ? " (end the backbone with flatten or globalavgpool)" : ""))
        }
        self.specs = specs
        self.inputShape = inputShape
        self.backbone = try specs.map { try makeLayer($0, generator: &generator) }
        self.head = head
    }

    /// Builds the backbone with weights drawn from a generator seeded with `seed`.
    public convenience init(backbone specs: [LayerSpec], inputShape: [Int], head: any ClassificationHead, seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed)
        try self.init(backbone: specs, inputShape: inputShape, head: head, generator: &generator)
    }

    /// The threads the backbone's layers share a training step's loops among (default: one).
    /// Results are deterministic for a given count.
    public var workers: WorkerPool = .serial {
        didSet { for layer in backbone { layer.setWorkerPool(workers) } }
    }

    /// The number of classes C.
    public var classes: Int { head.spec.classes }

    /// Logits [B, C] for a batch [B, ...inputShape]. `training` selects batch statistics and
    /// dropout, and keeps what `backward` needs.
    ///
    /// - Throws: `NumericsError.invalidInput` if the batch is empty or its sample shape is not `inputShape`.
    public func forward(_ input: Tensor, training: Bool) throws -> Tensor {
        guard input.rank == inputShape.count + 1, Array(input.shape.dropFirst()) == inputShape, input.shape[0] > 0 else {
            throw NumericsError.invalidInput("expected a batch of shape [B, \(inputShape.map(String.init).joined(separator: ", "))] with B ≥ 1, got \(input.shape)")
        }
        var x = input
        for layer in backbone { x = layer.forward(x, training: training) }
        return head.forward(x, training: training)
    }

    /// Propagates dL/d(logits) [B, C] from the last training forward through the head and the
    /// backbone, accumulating every parameter's gradient; returns dL/d(input).
    public func backward(_ logitsGradient: Tensor) -> Tensor {
        var g = head.backward(logitsGradient)
        for layer in backbone.reversed() { g = layer.backward(g) }
        return g
    }

    /// Every trainable parameter: the backbone's in layer order, then the head's.
    public var parameters: [Parameter] { backbone.flatMap(\.parameters) + head.parameters }

    /// Sets every parameter's gradient to zero.
    public func zeroGradients() {
        for p in parameters { p.zeroGradient() }
    }

    /// Trainable elements in the backbone and in the head.
    public var parameterCount: ParameterCount {
        ParameterCount(backbone: backbone.flatMap(\.parameters).reduce(0) { $0 + $1.value.count },
                       head: head.parameters.reduce(0) { $0 + $1.value.count })
    }

    /// Everything stored with the model, parameters and buffers, under their full names, in a
    /// stable order (backbone layers in order, each layer's parameters then buffers, then the head).
    public func namedTensors() -> [(name: String, tensor: Tensor)] {
        var result: [(name: String, tensor: Tensor)] = []
        for (index, layer) in backbone.enumerated() {
            let prefix = "backbone.\(index)."
            result += layer.parameters.map { (prefix + $0.name, $0.value) }
            result += layer.buffers.map { (prefix + $0.name, $0.tensor) }
        }
        result += head.parameters.map { ("head." + $0.name, $0.value) }
        result += head.buffers.map { ("head." + $0.name, $0.tensor) }
        return result
    }

    /// Replaces every parameter and buffer with the tensor of the same full name.
    ///
    /// Nothing changes unless every tensor is present, known and of the right shape.
    /// - Throws: `NumericsError.unknownTensor`, `.missingTensor` or `.shapeMismatch` naming the
    ///   first offending tensor in name order.
    public func load(namedTensors tensors: [String: Tensor]) throws {
        var expected: [String: [Int]] = [:]
        for (name, tensor) in namedTensors() { expected[name] = tensor.shape }
        if let unknown = tensors.keys.filter({ expected[$0] == nil }).sorted().first {
            throw NumericsError.unknownTensor(unknown)
        }
        for (name, shape) in expected.sorted(by: { $0.key < $1.key }) {
            guard let tensor = tensors[name] else { throw NumericsError.missingTensor(name) }
            guard tensor.shape == shape else {
                throw NumericsError.shapeMismatch(name: name, expected: shape, actual: tensor.shape)
            }
        }
        for (index, layer) in backbone.enumerated() {
            let prefix = "backbone.\(index)."
            for p in layer.parameters { p.value = tensors[prefix + p.name]! }
            for b in layer.buffers { try layer.setBuffer(b.name, to: tensors[prefix + b.name]!) }
        }
        for p in head.parameters { p.value = tensors["head." + p.name]! }
        for b in head.buffers { try head.setBuffer(b.name, to: tensors["head." + b.name]!) }
    }
}
