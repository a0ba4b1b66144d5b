/// Why an image could not be decoded, encoded or built. Every description is a complete
/// sentence fit for a client-facing error body.
public enum ImageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The input has no bytes.
    case emptyInput
    /// The input starts with neither the PNG signature nor a JPEG SOI marker.
    case unknownFormat(leadingBytes: [UInt8])
    /// The encoded input is larger than `ImageLimits.maxEncodedBytes`.
    case encodedDataTooLarge(byteCount: Int, limit: Int)
    /// The header declares more than `ImageLimits.maxPixelCount` pixels; nothing was decoded.
    case tooManyPixels(width: Int, height: Int, limit: Int)
    /// The data ends before the image does; `detail` is the C library's message.
    case truncated(format: ImageFormat, detail: String)
    /// A chunk checksum does not match its contents; `detail` is the C library's message.
    case checksumMismatch(format: ImageFormat, detail: String)
    /// The data is malformed in some other way; `detail` is the C library's message.
    case corrupt(format: ImageFormat, detail: String)
    /// A well-formed image this module cannot convert (e.g. a CMYK JPEG).
    case unsupported(format: ImageFormat, detail: String)
    /// Writing the image failed; `detail` is the C library's message.
    case encodingFailed(format: ImageFormat, detail: String)
    /// A side is zero, negative or too large to address.
    case invalidDimensions(width: Int, height: Int)
    /// A pixel buffer's length does not match `width × height × channels`.
    case pixelCountMismatch(expected: Int, actual: Int)

    public var description: String {
        switch self {
        case .emptyInput:
            return "the image data is empty"
        case let .unknownFormat(bytes):
            let hex = bytes.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
            return "unrecognised image format (first bytes: \(hex.isEmpty ? "none" : hex)); expected PNG or JPEG"
        case let .encodedDataTooLarge(count, limit):
            return "the image data is \(count) bytes, more than the limit of \(limit) bytes"
        case let .tooManyPixels(width, height, limit):
            return "the image is \(width)×\(height) pixels, more than the limit of \(limit) pixels"
        case let .truncated(format, detail):
            return "the \(format) data is truncated: \(detail)"
        case let .checksumMismatch(format, detail):
            return "the \(format) data is corrupt (checksum mismatch): \(detail)"
        case let .corrupt(format, detail):
            return "the \(format) data is corrupt: \(detail)"
        case let .unsupported(format, detail):
            return "the \(format) image is not supported: \(detail)"
        case let .encodingFailed(format, detail):
            return "could not encode \(format): \(detail)"
        case let .invalidDimensions(width, height):
            return "invalid image size \(width)×\(height)"
        case let .pixelCountMismatch(expected, actual):
            return "the pixel buffer holds \(actual) bytes, expected \(expected)"
        }
    }
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
