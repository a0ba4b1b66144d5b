extension Image {
    /// Writes the image as planar Float32 CHW into `output`: element `[c, y, x]` is
    /// `(pixel / 255 − mean[c]) / std[c]`.
    ///
    /// `output` must hold exactly `mode.channels × height × width` elements and `mean`, `std`
    /// one entry per channel with every `std` positive; these are programmer errors. Callers that
    /// normalise many images keep a `PixelNormalizer` instead of building its table each time.
    public func writeNormalizedCHW(into output: UnsafeMutableBufferPointer<Float>, mean: [Float], std: [Float]) {
        let channels = mode.channels, area = width * height
        precondition(output.count == channels * area, "output holds \(output.count) floats, need \(channels * area)")
        PixelNormalizer(mean: mean, std: std).write(self, into: output)
    }

    /// The image as planar normalised Float32 CHW values; see `writeNormalizedCHW(into:mean:std:)`.
    public func normalizedCHW(mean: [Float], std: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: mode.channels * width * height)
        out.withUnsafeMutableBufferPointer { writeNormalizedCHW(into: $0, mean: mean, std: std) }
        return out
    }
}
