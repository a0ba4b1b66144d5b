import ImageCodec
import Numerics

extension Tensor {
    /// One image as a normalised Float32 tensor [C, H, W].
    ///
    /// The image must already have the normalisation's channel count (convert with
    /// `Image.converted(to:)` or `Image.prepared(mode:width:height:)` first).
    public init(image: Image, normalization: Normalization) throws {
        guard image.mode.channels == normalization.channels else {
            throw DatasetError.invalidParameter("a \(image.mode) image has \(image.mode.channels) channels, the normalisation \(normalization.channels)")
        }
        var tensor = Tensor(shape: [image.mode.channels, image.height, image.width])
        tensor.data.withUnsafeMutableBufferPointer {
            image.writeNormalizedCHW(into: $0, mean: normalization.mean, std: normalization.std)
        }
        self = tensor
    }

    /// Images of one size and mode as a normalised Float32 batch [B, C, H, W].
    ///
    /// - Throws: `DatasetError.invalidParameter` if `images` is empty, the images differ in
    ///   size or mode, or their channel count is not the normalisation's.
    public init(batch images: [Image], normalization: Normalization) throws {
        guard let first = images.first else { throw DatasetError.invalidParameter("an empty batch of images") }
        let channels = first.mode.channels
        guard channels == normalization.channels else {
            throw DatasetError.invalidParameter("a \(first.mode) image has \(channels) channels, the normalisation \(normalization.channels)")
        }
        if let other = images.first(where: { $0.width != first.width || $0.height != first.height || $0.mode != first.mode }) {
            throw DatasetError.invalidParameter("images in a batch differ: \(first.width)×\(first.height) \(first.mode) and \(other.width)×\(other.height) \(other.mode)")
        }
        let size = channels * first.height * first.width
        var tensor = Tensor(shape: [images.count, channels, first.height, first.width])
        tensor.data.withUnsafeMutableBufferPointer { out in
            for (row, image) in images.enumerated() {
                image.writeNormalizedCHW(into: UnsafeMutableBufferPointer(rebasing: out[row * size..<(row + 1) * size]),
                                         mean: normalization.mean, std: normalization.std)
            }
        }
        self = tensor
    }
}
