/// An 8-bit raster image: `height` rows of `width` pixels, each `mode.channels` bytes,
/// interleaved row-major (HWC), top row first.
public struct Image: Equatable, Sendable {
    /// The number of pixels per row.
    public let width: Int
    /// The number of rows.
    public let height: Int
    /// Gray (1 channel) or RGB (3 channels).
    public let mode: ColorMode
    /// `height × width × mode.channels` bytes, HWC.
    public private(set) var pixels: [UInt8]

    /// An image over `pixels`, which must hold exactly `width × height × mode.channels` bytes.
    ///
    /// - Throws: `ImageError.invalidDimensions` if a side is not positive,
    ///   `ImageError.pixelCountMismatch` if `pixels` has the wrong length.
    public init(width: Int, height: Int, mode: ColorMode, pixels: [UInt8]) throws {
        guard width > 0, height > 0 else { throw ImageError.invalidDimensions(width: width, height: height) }
        let (area, overflow1) = width.multipliedReportingOverflow(by: height)
        let (expected, overflow2) = area.multipliedReportingOverflow(by: mode.channels)
        guard !overflow1, !overflow2 else { throw ImageError.invalidDimensions(width: width, height: height) }
        guard pixels.count == expected else {
            throw ImageError.pixelCountMismatch(expected: expected, actual: pixels.count)
        }
        self.init(unchecked: width, height: height, mode: mode, pixels: pixels)
    }

    /// An image of one colour: `value` repeated in every channel of every pixel.
    public init(width: Int, height: Int, mode: ColorMode, repeating value: UInt8) throws {
        guard width > 0, height > 0, width.multipliedReportingOverflow(by: height).overflow == false,
              (width * height).multipliedReportingOverflow(by: mode.channels).overflow == false
        else { throw ImageError.invalidDimensions(width: width, height: height) }
        self.init(unchecked: width, height: height, mode: mode,
                  pixels: [UInt8](repeating: value, count: width * height * mode.channels))
    }

    /// For decoders and transforms that have already sized `pixels` correctly.
    init(unchecked width: Int, height: Int, mode: ColorMode, pixels: [UInt8]) {
        assert(pixels.count == width * height * mode.channels)
        self.width = width
        self.height = height
        self.mode = mode
        self.pixels = pixels
    }

    /// The number of bytes per row: `width × mode.channels`.
    public var rowBytes: Int { width * mode.channels }

    /// The value of channel `channel` at column `x`, row `y` (all zero-based).
    public subscript(x: Int, y: Int, channel: Int) -> UInt8 {
        precondition(x >= 0 && x < width && y >= 0 && y < height && channel >= 0 && channel < mode.channels,
                     "pixel (\(x), \(y), \(channel)) outside a \(width)×\(height)×\(mode.channels) image")
        return pixels[(y * width + x) * mode.channels + channel]
    }
}

/// How many 8-bit channels a pixel has.
public enum ColorMode: String, Codable, Sendable, CaseIterable {
    /// One luma channel.
    case gray
    /// Red, green, blue, in that order.
    case rgb

    /// 1 for gray, 3 for RGB.
    public var channels: Int {
        switch self {
        case .gray: return 1
        case .rgb: return 3
        }
    }

    /// The mode with `channels` channels, or nil for any count other than 1 or 3.
    public init?(channels: Int) {
        switch channels {
        case 1: self = .gray
        case 3: self = .rgb
        default: return nil
        }
    }
}
