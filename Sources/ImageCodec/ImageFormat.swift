/// An encoded image format this module reads and writes.
public enum ImageFormat: String, Codable, Sendable, CustomStringConvertible {
    case png
    case jpeg

    /// The format announced by the first bytes of `data` (the PNG signature or the JPEG SOI
    /// marker), or nil if neither matches.
    public static func sniff<Bytes: Collection>(_ data: Bytes) -> ImageFormat? where Bytes.Element == UInt8 {
        if data.starts(with: pngSignature) { return .png }
        if data.starts(with: jpegStartOfImage) { return .jpeg }
        return nil
    }

    public var description: String {
        switch self {
        case .png: return "PNG"
        case .jpeg: return "JPEG"
        }
    }

    static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
    // SOI followed by the first byte of the next marker; every JPEG starts this way.
    static let jpegStartOfImage: [UInt8] = [0xFF, 0xD8, 0xFF]
}
