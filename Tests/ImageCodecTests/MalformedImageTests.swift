import Testing
@testable import ImageCodec

@Suite struct MalformedImageTests {
    @Test func emptyDataIsRefused() {
        #expect(throws: ImageError.emptyInput) { try ImageDecoder.decode([UInt8]()) }
    }

    @Test func unknownFormatNamesTheFirstBytes() {
        let gif = Array("GIF89a".utf8) + [1, 0, 1, 0]
        #expect(throws: ImageError.unknownFormat(leadingBytes: Array(gif.prefix(8)))) {
            try ImageDecoder.decode(gif)
        }
        #expect(ImageError.unknownFormat(leadingBytes: [0x47, 0x49]).description.contains("47 49"))
    }

    @Test func truncatedPNGIsRefused() throws {
        let data = try TestImages.gradient(width: 40, height: 40, mode: .rgb).pngData()
        let error = try #require(throws: ImageError.self) {
            try ImageDecoder.decode(Array(data.prefix(data.count / 2)))
        }
        guard case let .truncated(format, detail) = error else {
            Issue.record("expected .truncated, got \(error)"); return
        }
        #expect(format == .png && !detail.isEmpty)
    }

    @Test func flippedCRCByteIsRefused() throws {
        var data = try TestImages.gradient(width: 8, height: 8, mode: .gray).pngData()
        // The IHDR CRC sits after the signature (8), length (4), type (4) and 13 data bytes.
        data[29] ^= 0xFF
        let error = try #require(throws: ImageError.self) { try ImageDecoder.decode(data) }
        guard case let .checksumMismatch(format, detail) = error else {
            Issue.record("expected .checksumMismatch, got \(error)"); return
        }
        #expect(format == .png && !detail.isEmpty)
    }

    /// Damage in the image data is refused, in the compressed bytes and in the zlib stream's
    /// Adler-32 trailer alike. libspng stops reading once the image is complete and so does not
    /// check the last data chunk's CRC: the Adler-32 is what catches a damaged end, and a decoder
    /// that skipped it (`SPNG_CTX_IGNORE_ADLER32`, a fifth of a small image's decode) would
    /// return the image as if nothing were wrong.
    @Test(arguments: [0, 1, 2, 3, 4, 8])
    func damagedImageDataIsRefused(bytesBeforeTheEnd: Int) throws {
        var data = try TestImages.gradient(width: 12, height: 12, mode: .gray).pngData()
        let idat = try #require(TestImages.chunkData(named: "IDAT", in: data))
        data[idat.upperBound - 1 - bytesBeforeTheEnd] ^= 0x01
        #expect(throws: ImageError.self) { try ImageDecoder.decode(data) }
    }

    @Test func hugeDeclaredPNGIsRefusedBeforeDecoding() throws {
        let header = TestImages.pngHeaderOnly(width: 100_000, height: 100_000)
        #expect(throws: ImageError.tooManyPixels(width: 100_000, height: 100_000,
                                                 limit: ImageLimits.default.maxPixelCount)) {
            try ImageDecoder.decode(header)
        }
        let message = ImageError.tooManyPixels(width: 100_000, height: 100_000, limit: 16).description
        #expect(message.contains("100000×100000"))
    }

    @Test func craftedHeaderIsValidWithinLimits() throws {
        // The same crafted header at a small size gets past the limit and fails only for
        // lack of image data, so the refusal above is due to the size.
        let error = try #require(throws: ImageError.self) {
            try ImageDecoder.decode(TestImages.pngHeaderOnly(width: 4, height: 4))
        }
        if case .tooManyPixels = error { Issue.record("a 4×4 header was refused as too large") }
    }

    @Test func hugeDeclaredJPEGIsRefusedBeforeDecoding() throws {
        var data = try TestImages.gradient(width: 16, height: 16, mode: .gray).jpegData()
        // Patch the baseline frame header (FF C0, length, precision, height, width) to 60000×50000.
        let sof = try #require(data.indices.dropLast().first { data[$0] == 0xFF && data[$0 + 1] == 0xC0 })
        data.replaceSubrange(sof + 5..<sof + 9, with: [0xEA, 0x60, 0xC3, 0x50])
        #expect(throws: ImageError.tooManyPixels(width: 50_000, height: 60_000, limit: ImageLimits.default.maxPixelCount)) {
            try ImageDecoder.decode(data)
        }
    }

    @Test func jpegGarbageIsRefusedWithTurboJPEGsMessage() throws {
        // SOI, then a fixed pseudo-random tail (a linear congruential sequence).
        var state: UInt32 = 12_345
        var data: [UInt8] = [0xFF, 0xD8, 0xFF]
        for _ in 0..<200 {
            state = state &* 1_103_515_245 &+ 12_345
            data.append(UInt8(state >> 24))
        }
        let error = try #require(throws: ImageError.self) { try ImageDecoder.decode(data) }
        guard case let .corrupt(format, detail) = error else {
            Issue.record("expected .corrupt, got \(error)"); return
        }
        #expect(format == .jpeg && !detail.isEmpty)
    }

    @Test func jpegWithoutFrameIsRefused() throws {
        // SOI followed directly by EOI.
        let error = try #require(throws: ImageError.self) { try ImageDecoder.decode([0xFF, 0xD8, 0xFF, 0xD9]) }
        guard case .corrupt(.jpeg, _) = error else { Issue.record("expected .corrupt, got \(error)"); return }
    }

    @Test func truncatedJPEGIsRefused() throws {
        let data = try TestImages.gradient(width: 64, height: 64, mode: .rgb).jpegData()
        #expect(throws: ImageError.self) { try ImageDecoder.decode(Array(data.prefix(data.count / 2))) }
    }

    @Test func oversizedInputIsRefusedBeforeSniffing() {
        let limits = ImageLimits(maxEncodedBytes: 10)
        #expect(throws: ImageError.encodedDataTooLarge(byteCount: 11, limit: 10)) {
            try ImageDecoder.decode([UInt8](repeating: 0, count: 11), limits: limits)
        }
    }

    @Test func pixelBufferOfWrongLengthIsRefused() {
        #expect(throws: ImageError.pixelCountMismatch(expected: 12, actual: 5)) {
            try Image(width: 2, height: 2, mode: .rgb, pixels: [1, 2, 3, 4, 5])
        }
    }
}
