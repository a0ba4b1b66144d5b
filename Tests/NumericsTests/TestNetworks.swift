@testable import Numerics

/// Backbones shared by the network, engine and training tests.
enum TestNetworks {
    /// [3, 8, 8] → [16]: every layer type, BatchNorm after convolutions, both residual shortcuts.
    static let everyLayer: [LayerSpec] = [
        .conv2d(inChannels: 3, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false),
        .batchNorm2d(channels: 8, epsilon: 1e-5, momentum: 0.1),
        .relu,
        .maxPool2d(kernel: 2, stride: 2),
        .residual(inChannels: 8, outChannels: 8, stride: 1),
        .residual(inChannels: 8, outChannels: 16, stride: 2),
        .batchNorm2d(channels: 16, epsilon: 1e-3, momentum: 0.1),
        .conv2d(inChannels: 16, outChannels: 16, kernel: 1, stride: 1, padding: 0, bias: true),
        .relu,
        .flatten,
        .dropout(probability: 0.3),
        .linear(inFeatures: 64, outFeatures: 24, bias: true),
        .relu,
        .linear(inFeatures: 24, outFeatures: 16, bias: true),
    ]

    /// A network over `specs` with a test head, and random non-trivial BatchNorm statistics and
    /// affine parameters so that folding has something to fold.
    static func make(_ specs: [LayerSpec], inputShape: [Int], classes: Int = 5, normalizedHead: Bool = false,
                     seed: UInt64 = 1) throws -> Network {
        let features = try LayerSpec.outputShape(of: specs, for: inputShape).reduce(1, *)
        let head = DenseTestHead(features: features, classes: classes, normalizes: normalizedHead, seed: seed + 1000)
        let network = try Network(backbone: specs, inputShape: inputShape, head: head, seed: seed)
        var generator = SeededGenerator(seed: seed + 2000)
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in network.namedTensors() {
            var t = tensor
            for i in t.data.indices {
                let u = Float(generator.nextGaussian())
                if name.hasSuffix("running_var") { t.data[i] = 0.5 + abs(u) }
                else if name.hasSuffix("running_mean") || name.contains("bn") && name.hasSuffix("bias") { t.data[i] = 0.3 * u }
                else if name.hasSuffix("bias") { t.data[i] = 0.1 * u }
                else if tensor.shape.count == 1 && !name.hasPrefix("head") { t.data[i] = 1 + 0.2 * u }
            }
            tensors[name] = t
        }
        try network.load(namedTensors: tensors)
        return network
    }

    /// `count` 8×8 images with a bright bar on the top, bottom, left or right edge (label 0…3), plus noise.
    static func barImages(count: Int, seed: UInt64) -> (inputs: Tensor, labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        var data: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            let label = i % 4
            labels.append(label)
            for y in 0..<8 {
                for x in 0..<8 {
                    let onBar = [y < 2, y >= 6, x < 2, x >= 6][label]
                    data.append((onBar ? 1 : 0) + Float(generator.nextGaussian()) * 0.3)
                }
            }
        }
        return (Tensor(shape: [count, 1, 8, 8], data: data), labels)
    }

    /// `count` points in `dimensions` dimensions around four Gaussian centres 3 apart (label 0…3), noise 0.5.
    static func clusters(count: Int, dimensions: Int, seed: UInt64) -> (inputs: Tensor, labels: [Int]) {
        var generator = SeededGenerator(seed: seed)
        let centres = (0..<4).map { _ in (0..<dimensions).map { _ in Float(generator.nextGaussian()) * 3 } }
        var data: [Float] = [], labels: [Int] = []
        for i in 0..<count {
            labels.append(i % 4)
            data += centres[i % 4].map { $0 + Float(generator.nextGaussian()) * 0.5 }
        }
        return (Tensor(shape: [count, dimensions], data: data), labels)
    }
}
