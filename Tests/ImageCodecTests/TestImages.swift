@testable import ImageCodec

/// Deterministic test images and PNG byte surgery.
enum TestImages {
    /// A smooth gradient with some texture, so JPEG round trips stay close.
    static func gradient(width: Int, height: Int, mode: ColorMode) throws -> Image {
        var pixels = [UInt8]()
        pixels.reserveCapacity(width * height * mode.channels)
        for y in 0..<height {
            for x in 0..<width {
                for c in 0..<mode.channels {
                    pixels.append(UInt8(x * 150 / max(width - 1, 1) + min(y, 20) * 2 + c * 20))
                }
            }
        }
        return try Image(width: width, height: height, mode: mode, pixels: pixels)
    }

    /// CRC-32 (ISO-HDLC, as PNG uses), bitwise: slow and obviously right.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8(value >> 16 & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value & 0xFF)]
    }

    /// The data bytes of the first chunk of type `name` in a PNG file.
    static func chunkData(named name: String, in png: [UInt8]) -> Range<Int>? {
        var offset = ImageFormat.pngSignature.count
        while offset + 8 <= png.count {
            let length = Int(png[offset]) << 24 | Int(png[offset + 1]) << 16 | Int(png[offset + 2]) << 8 | Int(png[offset + 3])
            let type = String(decoding: png[offset + 4..<offset + 8], as: UTF8.self)
            if type == name { return offset + 8..<offset + 8 + length }
            offset += 12 + length
        }
        return nil
    }

    /// A PNG signature and a valid IHDR chunk declaring `width × height` 8-bit RGB, nothing else.
    static func pngHeaderOnly(width: UInt32, height: UInt32) -> [UInt8] {
        let body: [UInt8] = Array("IHDR".utf8) + bigEndian(width) + bigEndian(height) + [8, 2, 0, 0, 0]
        return ImageFormat.pngSignature + bigEndian(13) + body + bigEndian(crc32(body))
    }
}
