/// Bounds on what a decoder accepts, checked before any pixel memory is allocated, so a small
/// file declaring a huge image (a decompression bomb) is refused cheaply.
public struct ImageLimits: Equatable, Sendable {
    /// The largest encoded input, in bytes.
    public var maxEncodedBytes: Int
    /// The largest `width × height` a header may declare.
    public var maxPixelCount: Int
    /// The most memory spng may spend caching ancillary chunks (text, ICC profiles), in bytes.
    public var maxAncillaryChunkBytes: Int

    public init(maxEncodedBytes: Int = 32 << 20, maxPixelCount: Int = 4096 * 4096,
                maxAncillaryChunkBytes: Int = 4 << 20) {
        self.maxEncodedBytes = maxEncodedBytes
        self.maxPixelCount = maxPixelCount
        self.maxAncillaryChunkBytes = maxAncillaryChunkBytes
    }

    /// 32 MiB of encoded data, 16 megapixels (4096 × 4096), 4 MiB of ancillary chunks.
    public static let `default` = ImageLimits()

    /// Throws `ImageError.tooManyPixels` unless a `width × height` image fits.
    func checkDimensions(width: Int, height: Int) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidDimensions(width: width, height: height) }
        let (pixels, overflow) = width.multipliedReportingOverflow(by: height)
        guard !overflow, pixels <= maxPixelCount else {
            throw ImageError.tooManyPixels(width: width, height: height, limit: maxPixelCount)
        }
    }
}
