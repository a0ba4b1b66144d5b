/// Bounds on what a decoder accepts, checked before any pixel memory is allocated, so a small
/// file declaring a huge image (a decompression bomb) is refused cheaply.
public struct ImageLimits: Equatable, Sendable {
    /// The largest encoded input, in bytes.
    public var maxEncodedBytes: Int
    /// The largest `width × height` a header may declare.
    public var maxPixelCount: Int
    /// The most memory libspng may spend on chunk data it keeps, including decompressed text
    /// and ICC profiles, in bytes. libspng needs this to be at least `maxEncodedBytes`
    /// (its per-chunk limit), so the larger of the two is used.
    public var maxChunkCacheBytes: Int

    public init(maxEncodedBytes: Int = 32 << 20, maxPixelCount: Int = 4096 * 4096,
                maxChunkCacheBytes: Int = 64 << 20) {
        self.maxEncodedBytes = maxEncodedBytes
        self.maxPixelCount = maxPixelCount
        self.maxChunkCacheBytes = maxChunkCacheBytes
    }

    /// 32 MiB of encoded data, 16 megapixels (4096 × 4096), 64 MiB of cached chunk data.
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
