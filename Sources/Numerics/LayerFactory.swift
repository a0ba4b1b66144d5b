/// Builds the layer a spec describes, with Kaiming-normal weights drawn from `generator`.
///
/// A dropout layer gets its own generator, seeded from `generator`, for its masks.
///
/// - Throws: `NumericsError.invalidSpec` if a field is out of range (see `LayerSpec.validate()`).
public func makeLayer(_ spec: LayerSpec, generator: inout SeededGenerator) throws -> any Layer {
    try spec.validate()
    switch spec {
    case let .linear(i, o, bias):
        return Linear(inFeatures: i, outFeatures: o, bias: bias, generator: &generator)
    case let .conv2d(i, o, k, s, p, bias):
        return Conv2d(inChannels: i, outChannels: o, kernel: k, stride: s, padding: p, bias: bias, generator: &generator)
    case let .batchNorm2d(c, eps, m):
        return BatchNorm2d(channels: c, epsilon: eps, momentum: m)
    case .relu:
        return ReLU()
    case let .maxPool2d(k, s):
        return MaxPool2d(kernel: k, stride: s)
    case .globalAveragePool:
        return GlobalAveragePool()
    case .flatten:
        return Flatten()
    case let .dropout(p):
        return Dropout(probability: p, generator: SeededGenerator(seed: generator.next()))
    case let .residual(i, o, s):
        return ResidualBlock(inChannels: i, outChannels: o, stride: s, generator: &generator)
    }
}
