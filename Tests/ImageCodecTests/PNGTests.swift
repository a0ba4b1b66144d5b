import Testing
@testable import ImageCodec

@Suite struct PNGTests {
    @Test(arguments: [ColorMode.gray, .rgb])
    func roundTripIsLossless(mode: ColorMode) throws {
        let image = try TestImages.gradient(width: 13, height: 7, mode: mode)
        let data = try image.pngData()
        #expect(ImageFormat.sniff(data) == .png)
        let decoded = try ImageDecoder.decode(data)
        #expect(decoded == image)
    }

    @Test func sixteenBitGrayKeepsTheHighByte() throws {
        let samples: [UInt16] = [0x0000, 0x1234, 0x80FF, 0xFFFF]
        let rows = hostOrderBytes(samples)
        let data = try PNGCodec.encode(rows: rows, width: 2, height: 2, colorType: .gray, bitDepth: 16)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .gray && image.width == 2 && image.height == 2)
        for (decoded, sample) in zip(image.pixels, samples) {
            // Either truncation or rounding of the 16-bit sample is acceptable.
            let exact = Double(sample) / 257
            #expect(abs(Double(decoded) - exact) <= 1, "16-bit \(sample) decoded as \(decoded)")
        }
    }

    @Test func sixteenBitRGBDecodesToEightBitRGB() throws {
        let rows = hostOrderBytes([0xFFFF, 0x0000, 0x8000])
        let data = try PNGCodec.encode(rows: rows, width: 1, height: 1, colorType: .rgb, bitDepth: 16)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .rgb)
        #expect(image.pixels == [255, 0, 128] || image.pixels == [255, 0, 127], "got \(image.pixels)")
    }

    @Test func twoBitPaletteExpandsToRGB() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (10, 20, 30)]
        // One row of four 2-bit indices 0, 1, 2, 3 packed into a byte: 00 01 10 11.
        let data = try PNGCodec.encode(rows: [0b0001_1011], width: 4, height: 1, colorType: .indexed,
                                       bitDepth: 2, palette: palette)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .rgb)
        #expect(image.pixels == [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30])
    }

    @Test func transparentPaletteEntryBecomesWhite() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(0, 0, 0), (200, 100, 50)]
        let data = try PNGCodec.encode(rows: [0, 1], width: 2, height: 1, colorType: .indexed, bitDepth: 8,
                                       palette: palette, transparency: [0, 255])
        let image = try ImageDecoder.decode(data)
        #expect(image.pixels == [255, 255, 255, 200, 100, 50])
    }

    @Test func opaqueGrayDecodesToItsSamples() throws {
        let data = try PNGCodec.encode(rows: [0, 1, 127, 254, 255, 90], width: 3, height: 2, colorType: .gray, bitDepth: 8)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .gray && image.width == 3 && image.height == 2)
        #expect(image.pixels == [0, 1, 127, 254, 255, 90])
    }

    @Test func transparentGrayValueBecomesWhite() throws {
        // tRNS marks the sample 40 transparent; every other gray stays opaque.
        let data = try PNGCodec.encode(rows: [40, 0, 41], width: 3, height: 1, colorType: .gray, bitDepth: 8,
                                       transparentGray: 40)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .gray)
        #expect(image.pixels == [255, 0, 41])
    }

    @Test func grayAlphaIsCompositedOnWhite() throws {
        // Pixels (gray, alpha): black half transparent, black opaque, 100 fully transparent.
        let data = try PNGCodec.encode(rows: [0, 128, 0, 255, 100, 0], width: 3, height: 1,
                                       colorType: .grayAlpha, bitDepth: 8)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .gray)
        #expect(image.pixels == [127, 0, 255])
    }

    @Test func rgbaIsCompositedOnWhiteAndDropsAlpha() throws {
        let data = try PNGCodec.encode(rows: [200, 100, 0, 255, 0, 0, 0, 0], width: 2, height: 1,
                                       colorType: .rgbAlpha, bitDepth: 8)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .rgb)
        #expect(image.pixels == [200, 100, 0, 255, 255, 255])
    }

    private func hostOrderBytes(_ samples: [UInt16]) -> [UInt8] {
        samples.withUnsafeBytes { Array($0) }
    }
}

@Suite struct LowBitDepthPNGTests {
    @Test func oneBitGrayScalesToFullRange() throws {
        // One row of four 1-bit pixels 1 0 1 0, padded to a byte.
        let data = try PNGCodec.encode(rows: [0b1010_0000], width: 4, height: 1, colorType: .gray, bitDepth: 1)
        let image = try ImageDecoder.decode(data)
        #expect(image.mode == .gray && image.pixels == [255, 0, 255, 0])
    }
}
