extension Image {
    /// Writes the image as planar Float32 CHW into `output`: element `[c, y, x]` is
    /// `(pixel / 255 − mean[c]) / std[c]`.
    ///
    /// `output` must hold exactly `mode.channels × height × width` elements and `mean`, `std`
    /// one entry per channel with every `std` positive; these are programmer errors.
    public func writeNormalizedCHW(into output: UnsafeMutableBufferPointer<Float>, mean: [Float], std: [Float]) {
        let channels = mode.channels, area = width * height
        precondition(output.count == channels * area, "output holds \(output.count) floats, need \(channels * area)")
        precondition(mean.count == channels && std.count == channels, "need \(channels) means and stds")
        precondition(std.allSatisfy { $0 > 0 }, "standard deviations must be positive")
        // A table per channel is faster than arithmetic per pixel, and uses the exact
        // expression of the training batches, so serving sees bit-identical inputs.
        var table = [Float](repeating: 0, count: 256)
        pixels.withUnsafeBufferPointer { src in
            for c in 0..<channels {
                for v in 0..<256 { table[v] = (Float(v) / 255 - mean[c]) / std[c] }
                let plane = c * area
                table.withUnsafeBufferPointer { table in
                    for p in 0..<area { output[plane + p] = table[Int(src[p * channels + c])] }
                }
            }
        }
    }

    /// The image as planar normalised Float32 CHW values; see `writeNormalizedCHW(into:mean:std:)`.
    public func normalizedCHW(mean: [Float], std: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: mode.channels * width * height)
        out.withUnsafeMutableBufferPointer { writeNormalizedCHW(into: $0, mean: mean, std: std) }
        return out
    }
}
