import Numerics

extension ModelManifest {
    /// Checks every field's range and that the layers fit together: channel counts chain from
    /// the input through the backbone, spatial sizes stay ≥ 1, the backbone ends in a flat
    /// vector of `head.features` values, and labels match the head's classes.
    /// - Throws: `ModelStoreError.invalidManifest` naming the first field at fault.
    public func validate() throws {
        func fail(_ field: String, _ problem: String) -> ModelStoreError {
            .invalidManifest(field: field, problem: problem)
        }
        guard formatVersion == Self.currentFormatVersion else {
            throw fail("formatVersion", "unknown format version \(formatVersion) (this build reads \(Self.currentFormatVersion))")
        }
        try input.validate()
        try validateHead()
        guard labels.count == head.classes else {
            throw fail("labels", "\(labels.count) labels for a head of \(head.classes) classes")
        }
        var seen: Set<String> = []
        for (i, label) in labels.enumerated() where !seen.insert(label).inserted {
            throw fail("labels[\(i)]", "duplicate label '\(label)'")
        }
        let features = try backboneOutputShape()
        guard features.count == 1 else {
            throw fail("architecture.backbone", "ends with shape \(features); it must end in a flat vector (add globalavgpool or flatten)")
        }
        guard features[0] == head.features else {
            throw fail("head.features", "is \(head.features) but the backbone produces \(features[0]) features")
        }
        // The Numerics layers and heads apply their own limits (e.g. sizes up to
        // LayerSpec.maximumSize, padding below the kernel); a manifest must pass them too.
        for (i, layer) in architecture.backbone.enumerated() {
            do { try layer.validate() } catch let error as NumericsError {
                throw fail("architecture.backbone[\(i)]", error.description)
            }
        }
        do {
            _ = try LayerSpec.outputShape(of: architecture.backbone, for: input.shape)
        } catch let error as NumericsError {
            throw fail("architecture.backbone", error.description)
        }
        do { try head.validate() } catch let error as NumericsError {
            throw fail("head", error.description)
        }
    }

    private func validateHead() throws {
        guard head.features > 0 else { throw ModelStoreError.invalidManifest(field: "head.features", problem: "must be > 0, got \(head.features)") }
        guard head.classes > 0 else { throw ModelStoreError.invalidManifest(field: "head.classes", problem: "must be > 0, got \(head.classes)") }
        guard head.alpha.isFinite else { throw ModelStoreError.invalidManifest(field: "head.alpha", problem: "must be finite, got \(head.alpha)") }
        if head.kind != .learned, head.classes > head.features {
            throw ModelStoreError.invalidManifest(
                field: "head.classes", problem: "a fixed head needs C ≤ N, got C = \(head.classes) > N = \(head.features)")
        }
    }

    /// The shape of one input after the whole backbone: [N] for a valid manifest.
    /// - Throws: `ModelStoreError.invalidManifest` naming the layer that does not fit.
    public func backboneOutputShape() throws -> [Int] {
        var shape = input.shape
        for (i, layer) in architecture.backbone.enumerated() {
            shape = try Self.outputShape(of: layer, input: shape, field: "architecture.backbone[\(i)]")
        }
        return shape
    }

    // Output sizes follow floor((H + 2p − k) / s) + 1, the convention of the layers in Numerics.
    private static func outputShape(of layer: LayerSpec, input shape: [Int], field: String) throws -> [Int] {
        func fail(_ key: String, _ problem: String) -> ModelStoreError {
            .invalidManifest(field: key.isEmpty ? field : "\(field).\(key)", problem: problem)
        }
        func positive(_ value: Int, _ key: String) throws {
            guard value > 0 else { throw fail(key, "must be > 0, got \(value)") }
        }
        func image(_ channelsKey: String, _ channels: Int) throws -> (h: Int, w: Int) {
            guard shape.count == 3 else { throw fail("", "needs a [C, H, W] input, the previous layer gives \(shape)") }
            guard shape[0] == channels else {
                throw fail(channelsKey, "is \(channels) but the previous layer gives \(shape[0]) channels")
            }
            return (shape[1], shape[2])
        }
        func spatial(_ size: Int, kernel: Int, stride: Int, padding: Int) throws -> Int {
            let out = (size + 2 * padding - kernel) / stride + 1
            guard size + 2 * padding >= kernel, out >= 1 else {
                throw fail("kernel", "window \(kernel) does not fit an input of size \(size) with padding \(padding)")
            }
            return out
        }
        switch layer {
        case let .linear(inFeatures, outFeatures, _):
            try positive(inFeatures, "in"); try positive(outFeatures, "out")
            guard shape.count == 1 else { throw fail("", "needs a flat input, the previous layer gives \(shape) (add flatten)") }
            guard shape[0] == inFeatures else { throw fail("in", "is \(inFeatures) but the previous layer gives \(shape[0]) features") }
            return [outFeatures]
        case let .conv2d(inChannels, outChannels, kernel, stride, padding, _):
            try positive(inChannels, "in"); try positive(outChannels, "out")
            try positive(kernel, "kernel"); try positive(stride, "stride")
            guard padding >= 0 else { throw fail("padding", "must be ≥ 0, got \(padding)") }
            let (h, w) = try image("in", inChannels)
            return [outChannels, try spatial(h, kernel: kernel, stride: stride, padding: padding),
                    try spatial(w, kernel: kernel, stride: stride, padding: padding)]
        case let .batchNorm2d(channels, epsilon, momentum):
            try positive(channels, "channels")
            guard epsilon > 0, epsilon.isFinite else { throw fail("epsilon", "must be > 0, got \(epsilon)") }
            guard momentum >= 0, momentum <= 1 else { throw fail("momentum", "must be in [0, 1], got \(momentum)") }
            _ = try image("channels", channels)
            return shape
        case .relu:
            return shape
        case let .dropout(probability):
            guard probability >= 0, probability < 1 else { throw fail("probability", "must be in [0, 1), got \(probability)") }
            return shape
        case let .maxPool2d(kernel, stride):
            try positive(kernel, "kernel"); try positive(stride, "stride")
            guard shape.count == 3 else { throw fail("", "needs a [C, H, W] input, the previous layer gives \(shape)") }
            return [shape[0], try spatial(shape[1], kernel: kernel, stride: stride, padding: 0),
                    try spatial(shape[2], kernel: kernel, stride: stride, padding: 0)]
        case .globalAveragePool:
            guard shape.count == 3 else { throw fail("", "needs a [C, H, W] input, the previous layer gives \(shape)") }
            return [shape[0]]
        case .flatten:
            return [shape.reduce(1, *)]
        case let .residual(inChannels, outChannels, stride):
            try positive(inChannels, "in"); try positive(outChannels, "out"); try positive(stride, "stride")
            let (h, w) = try image("in", inChannels)
            return [outChannels, try spatial(h, kernel: 3, stride: stride, padding: 1),
                    try spatial(w, kernel: 3, stride: stride, padding: 1)]
        }
    }
}

extension ModelInput {
    /// Checks the shape, the channel count against the colour mode, and mean/std.
    /// - Throws: `ModelStoreError.invalidManifest` naming the `input.*` field at fault.
    public func validate() throws {
        func fail(_ field: String, _ problem: String) -> ModelStoreError {
            .invalidManifest(field: "input.\(field)", problem: problem)
        }
        guard shape.count == 3 else { throw fail("shape", "must be [C, H, W], got \(shape)") }
        for (i, size) in shape.enumerated() where size <= 0 {
            throw fail("shape[\(i)]", "must be > 0, got \(size)")
        }
        guard colorMode.channels == shape[0] else {
            throw fail("colorMode", "\(colorMode.rawValue) gives \(colorMode.channels) channels, shape has \(shape[0])")
        }
        guard mean.count == shape[0] else { throw fail("mean", "has \(mean.count) values for \(shape[0]) channels") }
        guard std.count == shape[0] else { throw fail("std", "has \(std.count) values for \(shape[0]) channels") }
        for (i, m) in mean.enumerated() where !m.isFinite { throw fail("mean[\(i)]", "must be finite, got \(m)") }
        for (i, s) in std.enumerated() where !(s > 0 && s.isFinite) {
            throw fail("std[\(i)]", "must be > 0 and finite, got \(s)")
        }
    }
}
