/// A backbone layer and its hyperparameters: what a model manifest stores to rebuild the layer.
///
/// JSON form: an object with a `"type"` key and the layer's fields, e.g.
/// `{"type": "conv2d", "in": 1, "out": 32, "kernel": 3, "stride": 1, "padding": 1, "bias": false}`.
public enum LayerSpec: Equatable, Sendable {
    /// y = W x + b over the last dimension; input [B, in], output [B, out].
    case linear(inFeatures: Int, outFeatures: Int, bias: Bool)
    /// 2-D convolution; input [B, in, H, W], output [B, out, H', W'], square kernel.
    case conv2d(inChannels: Int, outChannels: Int, kernel: Int, stride: Int, padding: Int, bias: Bool)
    /// Batch normalisation over the channels of [B, C, H, W].
    case batchNorm2d(channels: Int, epsilon: Float, momentum: Float)
    /// max(0, x), elementwise.
    case relu
    /// Max pooling with a square window.
    case maxPool2d(kernel: Int, stride: Int)
    /// Mean over H and W: [B, C, H, W] → [B, C].
    case globalAveragePool
    /// [B, ...] → [B, product of the rest].
    case flatten
    /// Zeroes each element with probability `probability` in training (inverted dropout).
    case dropout(probability: Float)
    /// A residual basic block: two 3×3 conv + BN with ReLU, identity or 1×1-projection shortcut.
    case residual(inChannels: Int, outChannels: Int, stride: Int)
}

extension LayerSpec: Codable {
    private enum Key: String, CodingKey {
        case type, `in`, out, kernel, stride, padding, bias, channels, epsilon, momentum, probability
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "linear":
            self = .linear(
                inFeatures: try c.decode(Int.self, forKey: .in), outFeatures: try c.decode(Int.self, forKey: .out),
                bias: try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true)
        case "conv2d":
            self = .conv2d(
                inChannels: try c.decode(Int.self, forKey: .in), outChannels: try c.decode(Int.self, forKey: .out),
                kernel: try c.decode(Int.self, forKey: .kernel),
                stride: try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1,
                padding: try c.decodeIfPresent(Int.self, forKey: .padding) ?? 0,
                bias: try c.decodeIfPresent(Bool.self, forKey: .bias) ?? true)
        case "batchnorm2d":
            self = .batchNorm2d(
                channels: try c.decode(Int.self, forKey: .channels),
                epsilon: try c.decodeIfPresent(Float.self, forKey: .epsilon) ?? 1e-5,
                momentum: try c.decodeIfPresent(Float.self, forKey: .momentum) ?? 0.1)
        case "relu": self = .relu
        case "maxpool2d":
            let kernel = try c.decode(Int.self, forKey: .kernel)
            self = .maxPool2d(kernel: kernel, stride: try c.decodeIfPresent(Int.self, forKey: .stride) ?? kernel)
        case "globalavgpool": self = .globalAveragePool
        case "flatten": self = .flatten
        case "dropout": self = .dropout(probability: try c.decode(Float.self, forKey: .probability))
        case "residual":
            self = .residual(
                inChannels: try c.decode(Int.self, forKey: .in), outChannels: try c.decode(Int.self, forKey: .out),
                stride: try c.decodeIfPresent(Int.self, forKey: .stride) ?? 1)
        default:
            throw DecodingError.dataCorruptedError(
                forKey: .type, in: c,
                debugDescription: "unknown layer type '\(type)' (expected linear, conv2d, batchnorm2d, relu, maxpool2d, globalavgpool, flatten, dropout or residual)")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case let .linear(i, o, bias):
            try c.encode("linear", forKey: .type)
            try c.encode(i, forKey: .in); try c.encode(o, forKey: .out); try c.encode(bias, forKey: .bias)
        case let .conv2d(i, o, k, s, p, bias):
            try c.encode("conv2d", forKey: .type)
            try c.encode(i, forKey: .in); try c.encode(o, forKey: .out); try c.encode(k, forKey: .kernel)
            try c.encode(s, forKey: .stride); try c.encode(p, forKey: .padding); try c.encode(bias, forKey: .bias)
        case let .batchNorm2d(ch, eps, m):
            try c.encode("batchnorm2d", forKey: .type)
            try c.encode(ch, forKey: .channels); try c.encode(eps, forKey: .epsilon); try c.encode(m, forKey: .momentum)
        case .relu: try c.encode("relu", forKey: .type)
        case let .maxPool2d(k, s):
            try c.encode("maxpool2d", forKey: .type)
            try c.encode(k, forKey: .kernel); try c.encode(s, forKey: .stride)
        case .globalAveragePool: try c.encode("globalavgpool", forKey: .type)
        case .flatten: try c.encode("flatten", forKey: .type)
        case let .dropout(p):
            try c.encode("dropout", forKey: .type); try c.encode(p, forKey: .probability)
        case let .residual(i, o, s):
            try c.encode("residual", forKey: .type)
            try c.encode(i, forKey: .in); try c.encode(o, forKey: .out); try c.encode(s, forKey: .stride)
        }
    }
}
