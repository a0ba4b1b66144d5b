import ImageCodec

/// Per-channel standardisation of pixel values: `x = (pixel / 255 − mean[c]) / std[c]`.
///
/// Computed once on a training set and stored with the model, so serving normalises inputs
/// exactly as training did.
public struct Normalization: Codable, Equatable, Sendable {
    /// The mean of `pixel / 255` per channel.
    public let mean: [Float]
    /// The standard deviation of `pixel / 255` per channel; always positive.
    public let std: [Float]

    /// Statistics given explicitly; `mean` and `std` must have one entry per channel and every
    /// `std` must be positive.
    ///
    /// - Throws: `DatasetError.invalidParameter` otherwise.
    public init(mean: [Float], std: [Float]) throws {
        guard !mean.isEmpty, mean.count == std.count, std.allSatisfy({ $0 > 0 && $0.isFinite }),
              mean.allSatisfy(\.isFinite) else {
            throw DatasetError.invalidParameter("normalisation needs one finite mean and one positive std per channel, got mean \(mean), std \(std)")
        }
        self.mean = mean
        self.std = std
    }

    /// Decodes and validates like `init(mean:std:)`, so a damaged model file cannot smuggle
    /// in a zero standard deviation.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(mean: container.decode([Float].self, forKey: .mean), std: container.decode([Float].self, forKey: .std))
        } catch let error as DatasetError {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.description))
        }
    }

    /// Mean 0, std 1: inputs are `pixel / 255`.
    public static func identity(channels: Int) -> Normalization {
        // Statically valid.
        try! Normalization(mean: [Float](repeating: 0, count: channels), std: [Float](repeating: 1, count: channels))
    }

    /// The number of channels.
    public var channels: Int { mean.count }

    /// The population mean and standard deviation of every channel over all of `set`'s pixels.
    ///
    /// Sums are exact integers, so the result does not depend on the order of the images. A
    /// channel with zero variance (a constant channel) gets std 1 instead of 0.
    public init(computedOver set: LabeledImageSet) {
        let area = set.height * set.width
        var sums = [UInt64](repeating: 0, count: set.channels)
        var squares = [UInt64](repeating: 0, count: set.channels)
        set.pixels.withUnsafeBufferPointer { pixels in
            for index in 0..<set.count {
                for c in 0..<set.channels {
                    let plane = index * set.sampleSize + c * area
                    var sum: UInt64 = 0, square: UInt64 = 0
                    for p in plane..<plane + area {
                        let v = UInt64(pixels[p])
                        sum &+= v
                        square &+= v * v
                    }
                    sums[c] &+= sum
                    squares[c] &+= square
                }
            }
        }
        let n = Double(max(set.count * area, 1))
        mean = sums.map { Float(Double($0) / n / 255) }
        std = zip(sums, squares).map { sum, square in
            let m = Double(sum) / n
            let variance = max(Double(square) / n - m * m, 0)
            let deviation = variance.squareRoot() / 255
            return deviation > 0 ? Float(deviation) : 1
        }
    }

    /// Look-up table [C, 256]: the normalised value of every byte in every channel, by the
    /// same expression as `Image.writeNormalizedCHW`, so training and serving agree exactly.
    func table() -> [Float] {
        var table = [Float](repeating: 0, count: channels * 256)
        for c in 0..<channels {
            for v in 0..<256 { table[c * 256 + v] = (Float(v) / 255 - mean[c]) / std[c] }
        }
        return table
    }
}
