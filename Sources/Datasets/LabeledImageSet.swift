import ImageCodec

/// Labelled images of one size, stored compactly as bytes.
///
/// Pixels are UInt8 [N, C, H, W] (N samples, C channels, H rows, W columns), planar like the
/// network's input, so forming a batch is a table look-up per byte.
public struct LabeledImageSet: Sendable {
    /// Channels per image: 1 (gray) or 3 (RGB).
    public let channels: Int
    /// Rows per image.
    public let height: Int
    /// Columns per image.
    public let width: Int
    /// `count × channels × height × width` bytes, [N, C, H, W].
    public let pixels: [UInt8]
    /// One class index per image, each in `0..<classNames.count`.
    public let labels: [Int]
    /// The class names, indexed by label.
    public let classNames: [String]

    /// A set over `pixels` ([N, C, H, W]) and `labels`.
    ///
    /// - Throws: `DatasetError.invalidParameter` if the channel count is not 1 or 3, a size is
    ///   not positive, `pixels` does not hold `labels.count` images, or a label is out of range.
    public init(channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classNames: [String]) throws {
        guard ColorMode(channels: channels) != nil, height > 0, width > 0 else {
            throw DatasetError.invalidParameter("image shape \(channels)×\(height)×\(width) is not 1 or 3 channels of positive size")
        }
        guard pixels.count == labels.count * channels * height * width else {
            throw DatasetError.invalidParameter("\(pixels.count) pixel bytes do not hold \(labels.count) images of \(channels)×\(height)×\(width)")
        }
        if let bad = labels.firstIndex(where: { $0 < 0 || $0 >= classNames.count }) {
            throw DatasetError.invalidParameter("label \(labels[bad]) of sample \(bad) is outside 0..<\(classNames.count)")
        }
        self.init(unchecked: channels, height: height, width: width, pixels: pixels, labels: labels, classNames: classNames)
    }

    init(unchecked channels: Int, height: Int, width: Int, pixels: [UInt8], labels: [Int], classNames: [String]) {
        self.channels = channels
        self.height = height
        self.width = width
        self.pixels = pixels
        self.labels = labels
        self.classNames = classNames
    }

    /// The number of images.
    public var count: Int { labels.count }

    /// The number of classes.
    public var classCount: Int { classNames.count }

    /// Bytes per image: `channels × height × width`.
    public var sampleSize: Int { channels * height * width }

    /// Gray for one channel, RGB for three.
    public var colorMode: ColorMode { channels == 1 ? .gray : .rgb }

    /// How many images each class has, indexed by label.
    public var classCounts: [Int] {
        var counts = [Int](repeating: 0, count: classCount)
        for label in labels { counts[label] += 1 }
        return counts
    }

    /// Image `index` as an interleaved (HWC) `Image`.
    public func image(at index: Int) -> Image {
        precondition(index >= 0 && index < count, "image \(index) outside 0..<\(count)")
        let area = height * width, base = index * sampleSize
        var hwc = [UInt8](repeating: 0, count: sampleSize)
        for c in 0..<channels {
            for p in 0..<area { hwc[p * channels + c] = pixels[base + c * area + p] }
        }
        // The shape was validated when the set was built.
        return try! Image(width: width, height: height, mode: colorMode, pixels: hwc)
    }

    /// The images at `indices`, in that order (repeats allowed).
    public func subset(_ indices: [Int]) -> LabeledImageSet {
        let size = sampleSize
        var out = [UInt8](repeating: 0, count: indices.count * size)
        out.withUnsafeMutableBufferPointer { dst in
            pixels.withUnsafeBufferPointer { src in
                for (row, index) in indices.enumerated() {
                    precondition(index >= 0 && index < count, "image \(index) outside 0..<\(count)")
                    let from = UnsafeBufferPointer(rebasing: src[index * size..<(index + 1) * size])
                    _ = UnsafeMutableBufferPointer(rebasing: dst[row * size..<(row + 1) * size]).initialize(from: from)
                }
            }
        }
        return LabeledImageSet(unchecked: channels, height: height, width: width, pixels: out,
                               labels: indices.map { labels[$0] }, classNames: classNames)
    }
}
