import CSPNG
import Glibc

/// libspng behind Swift types: no spng type or code escapes this file.
enum PNGCodec {
    /// PNG colour types (PNG specification, IHDR).
    enum ColorType: UInt8 {
        case gray = 0, rgb = 2, indexed = 3, grayAlpha = 4, rgbAlpha = 6
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, limits: ImageLimits) throws -> Image {
        guard let ctx = spng_ctx_new(0) else { throw ImageError.corrupt(format: .png, detail: "out of memory") }
        defer { spng_ctx_free(ctx) }
        let chunkLimit = min(limits.maxEncodedBytes, Int(Int32.max))
        try check(spng_set_chunk_limits(ctx, chunkLimit, max(chunkLimit, limits.maxChunkCacheBytes)))
        try check(spng_set_png_buffer(ctx, bytes.baseAddress, bytes.count))

        var header = spng_ihdr()
        try check(spng_get_ihdr(ctx, &header))
        let width = Int(header.width), height = Int(header.height)
        try limits.checkDimensions(width: width, height: height)

        // Opaque gray, the common case for the shipped models, decodes straight to its 8-bit
        // samples: no RGBA expansion and no compositing.
        if header.color_type == ColorType.gray.rawValue, header.bit_depth <= 8, try !hasTransparency(ctx) {
            let grayFormat = Int32(SPNG_FMT_G8.rawValue)
            var size = 0
            try check(spng_decoded_image_size(ctx, grayFormat, &size))
            let pixels = try [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
                try check(spng_decode_image(ctx, buffer.baseAddress, size, grayFormat, 0))
                count = size
            }
            return Image(unchecked: width, height: height, mode: .gray, pixels: pixels)
        }

        // Decoding everything else to RGBA8 lets spng expand palettes, reduce 16-bit samples and
        // apply tRNS uniformly; compositing and channel selection happen below.
        let rgbaFormat = Int32(SPNG_FMT_RGBA8.rawValue)
        var size = 0
        try check(spng_decoded_image_size(ctx, rgbaFormat, &size))
        var rgba = [UInt8](repeating: 0, count: size)
        try rgba.withUnsafeMutableBytes { out in
            try check(spng_decode_image(ctx, out.baseAddress, out.count, rgbaFormat, Int32(SPNG_DECODE_TRNS.rawValue)))
        }

        let isGray = header.color_type == ColorType.gray.rawValue || header.color_type == ColorType.grayAlpha.rawValue
        let mode: ColorMode = isGray ? .gray : .rgb
        return Image(unchecked: width, height: height, mode: mode,
                     pixels: compositeOnWhite(rgba, pixelCount: width * height, mode: mode))
    }

    /// True when the image has a tRNS chunk (a transparent gray or RGB value, or palette alphas).
    /// Reading the chunks before the image data may fail (a bad CRC, say): that is thrown.
    private static func hasTransparency(_ ctx: OpaquePointer) throws -> Bool {
        var transparency = spng_trns()
        let code = spng_get_trns(ctx, &transparency)
        if code == SPNG_ECHUNKAVAIL.rawValue { return false }
        try check(code)
        return true
    }

    /// `c·a + 255·(1 − a)` per channel, keeping one channel (R = G = B) for gray sources.
    private static func compositeOnWhite(_ rgba: [UInt8], pixelCount: Int, mode: ColorMode) -> [UInt8] {
        let channels = mode.channels
        var out = [UInt8](repeating: 0, count: pixelCount * channels)
        rgba.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                for p in 0..<pixelCount {
                    let alpha = UInt32(src[4 * p + 3])
                    for c in 0..<channels {
                        let value = UInt32(src[4 * p + c])
                        dst[channels * p + c] = alpha == 255
                            ? UInt8(value)
                            : UInt8((value * alpha + 255 * (255 - alpha) + 127) / 255)
                    }
                }
            }
        }
        return out
    }

    /// Encodes an 8-bit gray or RGB image.
    static func encode(_ image: Image) throws -> [UInt8] {
        try encode(rows: image.pixels, width: image.width, height: image.height,
                   colorType: image.mode == .gray ? .gray : .rgb, bitDepth: 8)
    }

    /// Encodes raw PNG rows: `rows` holds samples row by row (16-bit samples in host byte
    /// order, as libspng expects; depths below 8 packed as in the PNG file), without filter bytes. Palette
    /// entries are RGB triples; `transparency` is the tRNS alpha per palette entry, and
    /// `transparentGray` the tRNS sample value of a gray image.
    static func encode(rows: [UInt8], width: Int, height: Int, colorType: ColorType, bitDepth: UInt8,
                       palette: [(UInt8, UInt8, UInt8)] = [], transparency: [UInt8] = [],
                       transparentGray: UInt16? = nil) throws -> [UInt8] {
        guard let ctx = spng_ctx_new(Int32(SPNG_CTX_ENCODER.rawValue)) else {
            throw ImageError.encodingFailed(format: .png, detail: "out of memory")
        }
        defer { spng_ctx_free(ctx) }
        let fail = { (code: Int32) in ImageError.encodingFailed(format: .png, detail: message(code)) }
        func run(_ code: Int32) throws { if code != 0 { throw fail(code) } }

        try run(spng_set_option(ctx, SPNG_ENCODE_TO_BUFFER, 1))
        var header = spng_ihdr(width: UInt32(width), height: UInt32(height), bit_depth: bitDepth,
                               color_type: colorType.rawValue, compression_method: 0, filter_method: 0,
                               interlace_method: 0)
        try run(spng_set_ihdr(ctx, &header))
        if !palette.isEmpty {
            var plte = spng_plte()
            plte.n_entries = UInt32(palette.count)
            withUnsafeMutableBytes(of: &plte.entries) { raw in
                let entries = raw.bindMemory(to: spng_plte_entry.self)
                for (i, (r, g, b)) in palette.enumerated() where i < entries.count {
                    entries[i] = spng_plte_entry(red: r, green: g, blue: b, alpha: 255)
                }
            }
            try run(spng_set_plte(ctx, &plte))
        }
        if !transparency.isEmpty {
            var trns = spng_trns()
            trns.n_type3_entries = UInt32(transparency.count)
            withUnsafeMutableBytes(of: &trns.type3_alpha) { raw in
                for (i, a) in transparency.enumerated() where i < raw.count { raw[i] = a }
            }
            try run(spng_set_trns(ctx, &trns))
        }
        if let transparentGray {
            var trns = spng_trns()
            trns.gray = transparentGray
            try run(spng_set_trns(ctx, &trns))
        }
        try rows.withUnsafeBytes { raw in
            try run(spng_encode_image(ctx, raw.baseAddress, raw.count, Int32(SPNG_FMT_PNG.rawValue),
                                      Int32(SPNG_ENCODE_FINALIZE.rawValue)))
        }
        var length = 0
        var error: Int32 = 0
        guard let buffer = spng_get_png_buffer(ctx, &length, &error) else { throw fail(error) }
        defer { free(buffer) }
        return [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
    }

    private static func check(_ code: Int32) throws {
        guard code != 0 else { return }
        let detail = message(code)
        switch code {
        case SPNG_IO_EOF.rawValue, SPNG_EOF.rawValue, SPNG_EIDAT_TOO_SHORT.rawValue:
            throw ImageError.truncated(format: .png, detail: detail)
        case SPNG_ECHUNK_CRC.rawValue:
            throw ImageError.checksumMismatch(format: .png, detail: detail)
        default:
            throw ImageError.corrupt(format: .png, detail: detail)
        }
    }

    private static func message(_ code: Int32) -> String {
        guard let text = spng_strerror(code) else { return "spng error \(code)" }
        return String(cString: text)
    }
}
