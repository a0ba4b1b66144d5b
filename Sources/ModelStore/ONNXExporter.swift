import Foundation
import Numerics

/// Writes a stored model as a standard ONNX model (opset 13), runnable by onnxruntime and other
/// ONNX tools.
///
/// Graph: input `input` [batch, C, H, W] (already normalised with the manifest's mean/std) →
/// the backbone (Conv, BatchNormalization, Relu, MaxPool, GlobalAveragePool + Flatten, Flatten,
/// Gemm; residual blocks as Conv/BN/Relu with an Add; dropout omitted, as in inference) → the
/// head → output `logits` [batch, classes]. A learned head is a Gemm. A fixed head is
/// x̂ = x / (‖x‖₂ + ε) (ReduceL2, Add, Div), then MatMul by the constant [N, C] matrix,
/// Mul by α, Add b. The manifest travels in the model's metadata under `fixserve.manifest`.
public enum ONNXExporter {
    /// The ONNX operator set the exported graphs use.
    public static let opset = 13
    /// The ONNX IR version matching `opset`.
    public static let irVersion = 7

    /// The ONNX ModelProto bytes of `model`, with a fixed head's matrix rebuilt from its
    /// specification (`fixedHeadMatrix`) and the Network's ε (`FeatureNormalization.epsilon`).
    /// - Throws: `ModelStoreError.onnxExport` when the head matrix cannot be rebuilt,
    ///   `.missingTensor` when `model.tensors` lacks a tensor the architecture needs.
    public static func export(_ model: StoredModel) throws -> Data {
        let spec = model.manifest.head
        var matrix: Tensor?
        if spec.kind != .learned {
            do {
                matrix = try fixedHeadMatrix(spec)
            } catch let error as NumericsError {
                throw ModelStoreError.onnxExport(problem: "cannot rebuild the head matrix: \(error)")
            }
        }
        return try export(model, fixedHeadMatrix: matrix, epsilon: FeatureNormalization.epsilon)
    }

    /// The ONNX ModelProto bytes of `model`.
    /// - Parameters:
    ///   - fixedHeadMatrix: for a fixed head, the dense [N, C] matrix M with
    ///     logits = α·x̂ᵀM + b; ignored (may be nil) for a learned head.
    ///   - epsilon: ε in x̂ = x / (‖x‖₂ + ε).
    /// - Throws: `ModelStoreError.onnxExport` when the head matrix is missing or mis-shaped,
    ///   `.missingTensor` when `model.tensors` lacks a tensor the architecture needs.
    public static func export(_ model: StoredModel, fixedHeadMatrix: Tensor?, epsilon: Float) throws -> Data {
        let manifest = model.manifest
        let input = manifest.input.shape
        var graph = ONNXGraph(
            name: "fixserve",
            input: ("input", [.parameter("batch")] + input.map { .value($0) }),
            output: ("logits", [.parameter("batch"), .value(manifest.head.classes)]))
        var builder = Builder(graph: graph, tensors: model.tensors)
        var x = "input"
        for (i, layer) in manifest.architecture.backbone.enumerated() {
            x = try builder.layer(layer, prefix: "backbone.\(i)", input: x)
        }
        x = try builder.head(manifest.head, input: x, matrix: fixedHeadMatrix, epsilon: epsilon)
        graph = builder.graph
        // The last node writes the declared output.
        graph.nodes[graph.nodes.count - 1].output = "logits"
        if let json = try? manifest.jsonData() {
            graph.metadata.append(("fixserve.manifest", String(decoding: json, as: UTF8.self)))
        }
        return Data(graph.encodedModel(opset: opset, irVersion: irVersion, producer: "fixserve", producerVersion: "1"))
    }

    /// Appends nodes and initializers, naming each intermediate value after its node.
    private struct Builder {
        var graph: ONNXGraph
        let tensors: [String: Tensor]
        private var added: Set<String> = []

        init(graph: ONNXGraph, tensors: [String: Tensor]) {
            self.graph = graph
            self.tensors = tensors
        }

        mutating func node(_ op: String, _ inputs: [String], _ attributes: [ONNXGraph.Attribute] = []) -> String {
            let output = "\(op.lowercased())_\(graph.nodes.count)"
            graph.nodes.append(.init(op: op, inputs: inputs, output: output, attributes: attributes))
            return output
        }

        /// Adds the stored tensor `name` as an initializer (once) and returns its name.
        mutating func stored(_ name: String) throws -> String {
            guard let tensor = tensors[name] else { throw ModelStoreError.missingTensor(name) }
            return constant(name, tensor)
        }

        mutating func constant(_ name: String, _ tensor: Tensor) -> String {
            if added.insert(name).inserted { graph.initializers.append((name, tensor)) }
            return name
        }

        mutating func conv(_ x: String, weight: String, bias: String?, kernel: Int, stride: Int, padding: Int) throws -> String {
            let inputs = try [x, stored(weight)] + (bias.map { [try stored($0)] } ?? [])
            return node("Conv", inputs, [
                .ints("kernel_shape", [kernel, kernel]), .ints("strides", [stride, stride]),
                .ints("pads", [padding, padding, padding, padding]),
            ])
        }

        mutating func batchNorm(_ x: String, _ prefix: String, epsilon: Float) throws -> String {
            node("BatchNormalization", [
                x, try stored("\(prefix).weight"), try stored("\(prefix).bias"),
                try stored("\(prefix).running_mean"), try stored("\(prefix).running_var"),
            ], [.float("epsilon", epsilon)])
        }

        mutating func layer(_ layer: LayerSpec, prefix p: String, input x: String) throws -> String {
            switch layer {
            case let .conv2d(_, _, kernel, stride, padding, bias):
                return try conv(x, weight: "\(p).weight", bias: bias ? "\(p).bias" : nil, kernel: kernel, stride: stride, padding: padding)
            case let .batchNorm2d(_, epsilon, _):
                return try batchNorm(x, p, epsilon: epsilon)
            case .relu:
                return node("Relu", [x])
            case let .maxPool2d(kernel, stride):
                return node("MaxPool", [x], [.ints("kernel_shape", [kernel, kernel]), .ints("strides", [stride, stride])])
            case .globalAveragePool:
                return node("Flatten", [node("GlobalAveragePool", [x])], [.int("axis", 1)])
            case .flatten:
                return node("Flatten", [x], [.int("axis", 1)])
            case .dropout:
                return x
            case let .linear(_, _, bias):
                let inputs = try [x, stored("\(p).weight")] + (bias ? [try stored("\(p).bias")] : [])
                return node("Gemm", inputs, [.int("transB", 1)])
            case let .residual(inChannels, outChannels, stride):
                // Numerics' ResidualBlock: relu(bn2(conv2(relu(bn1(conv1 x)))) + shortcut x), BN ε = 1e-5.
                let epsilon: Float = 1e-5
                var y = try conv(x, weight: "\(p).conv1.weight", bias: nil, kernel: 3, stride: stride, padding: 1)
                y = node("Relu", [try batchNorm(y, "\(p).bn1", epsilon: epsilon)])
                y = try conv(y, weight: "\(p).conv2.weight", bias: nil, kernel: 3, stride: 1, padding: 1)
                y = try batchNorm(y, "\(p).bn2", epsilon: epsilon)
                var shortcut = x
                if stride != 1 || inChannels != outChannels {
                    shortcut = try conv(x, weight: "\(p).shortcut.conv.weight", bias: nil, kernel: 1, stride: stride, padding: 0)
                    shortcut = try batchNorm(shortcut, "\(p).shortcut.bn", epsilon: epsilon)
                }
                return node("Relu", [node("Add", [y, shortcut])])
            }
        }

        mutating func head(_ spec: HeadSpec, input x: String, matrix: Tensor?, epsilon: Float) throws -> String {
            if spec.kind == .learned {
                let inputs = try [x, stored("head.weight")] + (spec.bias ? [try stored("head.bias")] : [])
                return node("Gemm", inputs, [.int("transB", 1)])
            }
            guard let matrix else {
                throw ModelStoreError.onnxExport(problem: "the \(spec.kind.rawValue) head needs its [N, C] matrix")
            }
            guard matrix.shape == [spec.features, spec.classes] else {
                throw ModelStoreError.onnxExport(
                    problem: "head matrix has shape \(matrix.shape), expected [\(spec.features), \(spec.classes)]")
            }
            let norm = node("ReduceL2", [x], [.ints("axes", [1]), .int("keepdims", 1)])
            let denominator = node("Add", [norm, constant("head.epsilon", Tensor(shape: [1], data: [epsilon]))])
            let unit = node("Div", [x, denominator])
            let projected = node("MatMul", [unit, constant("head.matrix", matrix)])
            let alpha = spec.alphaLearned ? try stored("head.alpha") : constant("head.alpha", Tensor(shape: [1], data: [spec.alpha]))
            let scaled = node("Mul", [projected, alpha])
            return spec.bias ? node("Add", [scaled, try stored("head.bias")]) : scaled
        }
    }
}
