import Foundation

/// Decodes PNG and JPEG data into 8-bit gray or RGB images, recognising the format from the
/// first bytes.
///
/// Conversions applied while decoding:
/// - PNG: every bit depth and colour type is accepted. 16-bit samples are reduced to 8 bits,
///   palettes are expanded, and transparency (an alpha channel or a tRNS chunk) is composited
///   over a white background, then dropped. Gray and gray+alpha images come out `.gray`,
///   everything else `.rgb`. Gamma is not applied.
/// - JPEG: grayscale JPEGs come out `.gray`, YCbCr and RGB JPEGs `.rgb`. Data that libjpeg-turbo
///   only warns about (e.g. a premature end of data) is refused, since part of the pixels
///   would be invented.
///
/// The encoded size and the declared pixel count are checked against `ImageLimits` before
/// any pixel memory is allocated.
public enum ImageDecoder {
    /// Decodes `data`.
    ///
    /// - Throws: `ImageError` — `.emptyInput`, `.unknownFormat`, `.encodedDataTooLarge`,
    ///   `.tooManyPixels`, `.truncated`, `.checksumMismatch`, `.corrupt` or `.unsupported`.
    public static func decode(_ data: UnsafeRawBufferPointer, limits: ImageLimits = .default) throws -> Image {
        guard !data.isEmpty else { throw ImageError.emptyInput }
        guard data.count <= limits.maxEncodedBytes else {
            throw ImageError.encodedDataTooLarge(byteCount: data.count, limit: limits.maxEncodedBytes)
        }
        switch ImageFormat.sniff(data) {
        case .png: return try PNGCodec.decode(data, limits: limits)
        case .jpeg: return try JPEGCodec.decode(data, limits: limits)
        case nil: throw ImageError.unknownFormat(leadingBytes: Array(data.prefix(8)))
        }
    }

    /// Decodes `data`; see `decode(_:limits:)`.
    public static func decode(_ data: [UInt8], limits: ImageLimits = .default) throws -> Image {
        try data.withUnsafeBytes { try decode($0, limits: limits) }
    }

    /// Decodes `data`; see `decode(_:limits:)`.
    public static func decode(_ data: Data, limits: ImageLimits = .default) throws -> Image {
        try data.withUnsafeBytes { try decode($0, limits: limits) }
    }

    /// Reads and decodes the file at `url`; a file larger than `limits.maxEncodedBytes` is
    /// refused before it is read.
    ///
    /// - Throws: the file system's error if the file cannot be read, otherwise `ImageError`.
    public static func decode(contentsOf url: URL, limits: ImageLimits = .default) throws -> Image {
        if let size = try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int,
           size > limits.maxEncodedBytes {
            throw ImageError.encodedDataTooLarge(byteCount: size, limit: limits.maxEncodedBytes)
        }
        return try decode(Data(contentsOf: url), limits: limits)
    }
}
