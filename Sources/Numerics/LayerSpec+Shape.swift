/// Validation and shape inference, so a backbone can be checked without building or running it.
///
/// Shapes here are per sample, without the batch dimension: [C, H, W] for images, [F] for
/// feature vectors.
extension LayerSpec {
    /// The largest channel count, feature count, kernel, stride or padding accepted; far above
    /// any real model, low enough that no size computation overflows.
    public static let maximumSize = 1 << 20

    /// The layer's name in JSON and in error messages, e.g. "conv2d".
    public var typeName: String {
        switch self {
        case .linear: return "linear"
        case .conv2d: return "conv2d"
        case .batchNorm2d: return "batchnorm2d"
        case .relu: return "relu"
        case .maxPool2d: return "maxpool2d"
        case .globalAveragePool: return "globalavgpool"
        case .flatten: return "flatten"
        case .dropout: return "dropout"
        case .residual: return "residual"
        }
    }

    /// Checks every field's range.
    ///
    /// - Throws: `NumericsError.invalidSpec` naming the layer type and the offending field.
    public func validate() throws {
        func size(_ value: Int, _ field: String, minimum: Int = 1) throws {
            guard value >= minimum && value <= LayerSpec.maximumSize else {
                throw NumericsError.invalidSpec(
                    "\(typeName) \(field) must be in \(minimum)…\(LayerSpec.maximumSize), got \(value)")
            }
        }
        switch self {
        case let .linear(i, o, _):
            try size(i, "in"); try size(o, "out")
        case let .conv2d(i, o, k, s, p, _):
            try size(i, "in"); try size(o, "out"); try size(k, "kernel"); try size(s, "stride")
            try size(p, "padding", minimum: 0)
            guard p < k else { throw NumericsError.invalidSpec("conv2d padding \(p) must be smaller than the kernel \(k)") }
        case let .batchNorm2d(c, eps, m):
            try size(c, "channels")
            guard eps.isFinite && eps > 0 else {
                throw NumericsError.invalidSpec("batchnorm2d epsilon must be positive and finite, got \(eps)")
            }
            guard m.isFinite && m >= 0 && m <= 1 else {
                throw NumericsError.invalidSpec("batchnorm2d momentum must be in [0, 1], got \(m)")
            }
        case .relu, .globalAveragePool, .flatten:
            break
        case let .maxPool2d(k, s):
            try size(k, "kernel"); try size(s, "stride")
        case let .dropout(p):
            guard p.isFinite && p >= 0 && p < 1 else {
                throw NumericsError.invalidSpec("dropout probability must be in [0, 1), got \(p)")
            }
        case let .residual(i, o, s):
            try size(i, "in"); try size(o, "out"); try size(s, "stride")
        }
    }

    /// The per-sample output shape for a per-sample input shape, after validating the spec.
    ///
    /// - Throws: `NumericsError.invalidSpec` if the spec is out of range or does not accept
    ///   `inputShape` (wrong rank, channel count or a plane smaller than the kernel).
    public func outputShape(for inputShape: [Int]) throws -> [Int] {
        try validate()
        func mismatch(_ expected: String) -> NumericsError {
            .invalidSpec("\(typeName) expects input \(expected), got \(inputShape)")
        }
        func image(channels: Int?) throws -> (c: Int, h: Int, w: Int) {
            let expected = channels.map { "[\($0), H, W]" } ?? "[C, H, W]"
            guard inputShape.count == 3 && inputShape.allSatisfy({ $0 > 0 }) else { throw mismatch(expected) }
            if let channels, inputShape[0] != channels { throw mismatch(expected) }
            return (inputShape[0], inputShape[1], inputShape[2])
        }
        switch self {
        case let .linear(i, o, _):
            guard inputShape == [i] else { throw mismatch("[\(i)]") }
            return [o]
        case let .conv2d(i, o, k, s, p, _):
            let (_, h, w) = try image(channels: i)
            guard h + 2 * p >= k && w + 2 * p >= k else {
                throw NumericsError.invalidSpec("conv2d kernel \(k) with padding \(p) does not fit a \(h)×\(w) plane")
            }
            return [o, (h + 2 * p - k) / s + 1, (w + 2 * p - k) / s + 1]
        case let .batchNorm2d(c, _, _):
            guard inputShape.count >= 1 && inputShape[0] == c && inputShape.allSatisfy({ $0 > 0 }) else {
                throw mismatch("[\(c), …]")
            }
            return inputShape
        case .relu, .dropout:
            guard !inputShape.isEmpty && inputShape.allSatisfy({ $0 > 0 }) else { throw mismatch("a non-empty shape") }
            return inputShape
        case let .maxPool2d(k, s):
            let (c, h, w) = try image(channels: nil)
            guard h >= k && w >= k else {
                throw NumericsError.invalidSpec("maxpool2d kernel \(k) does not fit a \(h)×\(w) plane")
            }
            return [c, (h - k) / s + 1, (w - k) / s + 1]
        case .globalAveragePool:
            return [try image(channels: nil).c]
        case .flatten:
            guard !inputShape.isEmpty && inputShape.allSatisfy({ $0 > 0 }) else { throw mismatch("a non-empty shape") }
            return [inputShape.reduce(1, *)]
        case let .residual(i, o, s):
            let (_, h, w) = try image(channels: i)
            return [o, (h - 1) / s + 1, (w - 1) / s + 1]
        }
    }

    /// The per-sample output shape of `specs` applied in order to `inputShape`.
    ///
    /// - Throws: `NumericsError.invalidSpec` naming the index and type of the first layer that
    ///   is out of range or does not fit its input.
    public static func outputShape(of specs: [LayerSpec], for inputShape: [Int]) throws -> [Int] {
        var shape = inputShape
        for (index, spec) in specs.enumerated() {
            do {
                shape = try spec.outputShape(for: shape)
            } catch let NumericsError.invalidSpec(detail) {
                throw NumericsError.invalidSpec("layer \(index): \(detail)")
            }
        }
        return shape
    }
}
