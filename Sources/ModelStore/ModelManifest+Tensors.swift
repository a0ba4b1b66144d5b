import Numerics

/// The tensors `manifest`'s architecture needs, in layer order, with their shapes.
///
/// Names follow the Network's naming: `backbone.<i>.<tensor>` for layer i, `head.<tensor>`.
/// Layers without parameters (relu, pooling, flatten, dropout) contribute nothing.
public func expectedTensors(for manifest: ModelManifest) -> [ExpectedTensor] {
    manifest.expectedTensors
}

extension ModelManifest {
    /// The tensors this architecture needs; see `expectedTensors(for:)`.
    public var expectedTensors: [ExpectedTensor] {
        var out: [ExpectedTensor] = []
        func add(_ name: String, _ shape: [Int], buffer: Bool = false) {
            out.append(ExpectedTensor(name: name, shape: shape, part: .backbone, isBuffer: buffer))
        }
        func batchNorm(_ prefix: String, _ channels: Int) {
            add("\(prefix).weight", [channels]); add("\(prefix).bias", [channels])
            add("\(prefix).running_mean", [channels], buffer: true); add("\(prefix).running_var", [channels], buffer: true)
        }
        for (i, layer) in architecture.backbone.enumerated() {
            let p = "backbone.\(i)"
            switch layer {
            case let .linear(inFeatures, outFeatures, bias):
                add("\(p).weight", [outFeatures, inFeatures])
                if bias { add("\(p).bias", [outFeatures]) }
            case let .conv2d(inChannels, outChannels, kernel, _, _, bias):
                add("\(p).weight", [outChannels, inChannels, kernel, kernel])
                if bias { add("\(p).bias", [outChannels]) }
            case let .batchNorm2d(channels, _, _):
                batchNorm(p, channels)
            case let .residual(inChannels, outChannels, stride):
                add("\(p).conv1.weight", [outChannels, inChannels, 3, 3])
                batchNorm("\(p).bn1", outChannels)
                add("\(p).conv2.weight", [outChannels, outChannels, 3, 3])
                batchNorm("\(p).bn2", outChannels)
                if stride != 1 || inChannels != outChannels {
                    add("\(p).shortcut.conv.weight", [outChannels, inChannels, 1, 1])
                    batchNorm("\(p).shortcut.bn", outChannels)
                }
            case .relu, .maxPool2d, .globalAveragePool, .flatten, .dropout:
                break
            }
        }
        let (n, c) = (head.features, head.classes)
        if head.kind == .learned {
            out.append(ExpectedTensor(name: "head.weight", shape: [c, n], part: .head))
        } else if head.alphaLearned {
            out.append(ExpectedTensor(name: "head.alpha", shape: [1], part: .head))
        }
        if head.bias { out.append(ExpectedTensor(name: "head.bias", shape: [c], part: .head)) }
        return out
    }

    /// Parameter accounting for this architecture: trained scalars by part, buffers, and the
    /// head's stored bytes against a learned head's.
    public var parameterCount: ParameterCount {
        let tensors = expectedTensors
        let trained = tensors.filter { !$0.isBuffer }
        let headScalars = trained.filter { $0.part == .head }.reduce(0) { $0 + $1.count }
        let floatSize = MemoryLayout<Float>.size
        return ParameterCount(
            backbone: trained.filter { $0.part == .backbone }.reduce(0) { $0 + $1.count },
            head: headScalars,
            buffers: tensors.filter(\.isBuffer).reduce(0) { $0 + $1.count },
            headStoredBytes: headScalars * floatSize,
            learnedHeadBytes: (head.classes * head.features + head.classes) * floatSize)
    }
}
