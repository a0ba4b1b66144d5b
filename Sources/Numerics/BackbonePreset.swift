/// Named backbones the trainer offers, each a list of `LayerSpec` for a given input shape.
public enum BackbonePreset: String, CaseIterable, Sendable {
    /// Two hidden layers of 256 and 128 units: N = 128.
    case mlp
    /// Two 3×3 conv + BN + ReLU + max-pool stages (32 and 64 channels), then a fully connected
    /// layer to N = 128 features with ReLU. About 4.2 M multiply-adds for a 28×28 image.
    case cnnSmall = "cnn-small"
    /// The small CNN with only 16 features, for the C > N caveat (N = 16 against C = 10 is tight).
    case cnnNarrow = "cnn-narrow"
    /// A CIFAR-style residual net with one basic block per stage (16, 32, 64 channels): N = 64.
    case resnet8 = "resnet-8"
    /// ResNet-20: three basic blocks per stage (16, 32, 64 channels): N = 64.
    case resnet20 = "resnet-20"

    /// Whether the feature width N can be chosen (`layers(…, features:)`): the presets that end in
    /// a fully connected layer.
    public var hasAdjustableFeatures: Bool { self != .resnet8 && self != .resnet20 }

    /// The layers for inputs of shape [channels, height, width], and the feature width N they
    /// produce; `features` replaces the preset's N where `hasAdjustableFeatures` (ignored otherwise).
    public func layers(channels: Int, height: Int, width: Int, features: Int? = nil) -> (layers: [LayerSpec], features: Int) {
        func convBlock(_ i: Int, _ o: Int) -> [LayerSpec] {
            [.conv2d(inChannels: i, outChannels: o, kernel: 3, stride: 1, padding: 1, bias: false),
             .batchNorm2d(channels: o, epsilon: 1e-5, momentum: 0.1), .relu]
        }
        func resnet(blocksPerStage: Int) -> (layers: [LayerSpec], features: Int) {
            var layers = convBlock(channels, 16)
            var inChannels = 16
            for (stage, width) in [16, 32, 64].enumerated() {
                for block in 0..<blocksPerStage {
                    let stride = stage > 0 && block == 0 ? 2 : 1
                    layers.append(.residual(inChannels: inChannels, outChannels: width, stride: stride))
                    inChannels = width
                }
            }
            return (layers + [.globalAveragePool], 64)
        }
        switch self {
        case .mlp:
            let inputs = channels * height * width
            let features = features ?? 128
            return ([.flatten, .linear(inFeatures: inputs, outFeatures: 256, bias: true), .relu,
                     .linear(inFeatures: 256, outFeatures: features, bias: true), .relu], features)
        case .cnnSmall, .cnnNarrow:
            let features = features ?? (self == .cnnSmall ? 128 : 16)
            let pooled = 64 * (height / 4) * (width / 4)
            return (convBlock(channels, 32) + [.maxPool2d(kernel: 2, stride: 2)]
                    + convBlock(32, 64) + [.maxPool2d(kernel: 2, stride: 2), .flatten,
                                           .linear(inFeatures: pooled, outFeatures: features, bias: true), .relu], features)
        case .resnet8: return resnet(blocksPerStage: 1)
        case .resnet20: return resnet(blocksPerStage: 3)
        }
    }
}
