/// Turns 8-bit HWC pixels into planar Float32 CHW: element `[c, y, x]` is
/// `(pixel / 255 − mean[c]) / std[c]`.
///
/// The 256 values of each channel are computed once, at creation: a served image then costs
/// one table lookup per element and no allocation. Training batches use the same expression,
/// so serving sees bit-identical inputs.
public struct PixelNormalizer: Sendable {
    public let channels: Int
    /// `channels × 256` values, channel-major.
    private let table: [Float]

    /// `mean` and `std` need one entry per channel with every `std` positive: programmer errors.
    public init(mean: [Float], std: [Float]) {
        precondition(!mean.isEmpty && mean.count == std.count, "need one mean and one std per channel")
        precondition(std.allSatisfy { $0 > 0 }, "standard deviations must be positive")
        channels = mean.count
        var table = [Float](repeating: 0, count: mean.count * 256)
        for c in 0..<mean.count {
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
        }
        self.table = table
    }

    /// Writes `pixels` (HWC, `channels` bytes per pixel) as CHW into `output`, which must hold
    /// exactly `pixels.count` floats.
    public func write(_ pixels: UnsafeBufferPointer<UInt8>, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(output.count == pixels.count && pixels.count % channels == 0,
                     "\(pixels.count) pixel bytes cannot fill \(output.count) floats of \(channels) channels")
        let area = pixels.count / channels
        table.withUnsafeBufferPointer { table in
            for c in 0..<channels {
                let lookup = UnsafeBufferPointer(rebasing: table[c * 256..<(c + 1) * 256])
                let plane = c * area
                for p in 0..<area { output[plane + p] = lookup[Int(pixels[p * channels + c])] }
            }
        }
    }

    /// Writes `image`, which must have `channels` channels, into `output`.
    public func write(_ image: Image, into output: UnsafeMutableBufferPointer<Float>) {
        precondition(image.mode.channels == channels, "a \(image.mode) image for a \(channels)-channel normaliser")
        image.pixels.withUnsafeBufferPointer { write($0, into: output) }
    }
}
