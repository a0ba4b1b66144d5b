import Testing
@testable import ImageCodec

@Suite struct TransformTests {
    @Test(arguments: [(7, 5, 3, 2), (10, 10, 31, 17), (100, 90, 9, 40), (5, 5, 5, 5)])
    func resizingAConstantImageKeepsItConstant(from: (Int, Int, Int, Int)) throws {
        let (w, h, nw, nh) = from
        let image = try Image(width: w, height: h, mode: .rgb, repeating: 173)
        let resized = try image.resized(width: nw, height: nh)
        #expect(resized.width == nw && resized.height == nh)
        #expect(resized.pixels.allSatisfy { $0 == 173 })
    }

    @Test func bilinearUpsamplingMatchesHandComputedValues() throws {
        // Centres of output pixels 0…3 map to source −0.25, 0.25, 0.75, 1.25 (clamped to 0 and 1).
        let image = try Image(width: 2, height: 1, mode: .gray, pixels: [0, 100])
        #expect(try image.resized(width: 4, height: 1).pixels == [0, 25, 75, 100])
    }

    @Test func areaAveragingWhenShrinkingByThree() throws {
        let image = try Image(width: 6, height: 1, mode: .gray, pixels: [0, 30, 60, 90, 120, 150])
        #expect(try image.resized(width: 2, height: 1).pixels == [30, 120])
    }

    @Test func areaAveragingWithFractionalCoverage() throws {
        // 5 → 2: each output covers 2.5 source pixels; (10+20+15)/2.5 = 18, (15+40+50)/2.5 = 42.
        let image = try Image(width: 5, height: 1, mode: .gray, pixels: [10, 20, 30, 40, 50])
        #expect(try image.resized(width: 2, height: 1).pixels == [18, 42])
    }

    @Test func resizingToZeroIsRefused() throws {
        let image = try Image(width: 2, height: 2, mode: .gray, repeating: 0)
        #expect(throws: ImageError.invalidDimensions(width: 0, height: 2)) { try image.resized(width: 0, height: 2) }
    }

    @Test func grayToRGBAndBackIsIdentity() throws {
        let gray = try TestImages.gradient(width: 9, height: 4, mode: .gray)
        let rgb = gray.converted(to: .rgb)
        #expect(rgb.mode == .rgb && rgb.pixels.count == 9 * 4 * 3)
        #expect(rgb.converted(to: .gray) == gray)
    }

    @Test func rgbToGrayUsesBT601Weights() throws {
        let image = try Image(width: 4, height: 1, mode: .rgb,
                              pixels: [255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255])
        // 0.299·255 = 76.2, 0.587·255 = 149.7, 0.114·255 = 29.1.
        #expect(image.converted(to: .gray).pixels == [76, 150, 29, 255])
    }

    @Test func normalizedCHWIsPlanarAndScaled() throws {
        let image = try Image(width: 2, height: 1, mode: .rgb, pixels: [0, 51, 102, 255, 153, 204])
        let mean: [Float] = [0.5, 0.25, 0], std: [Float] = [0.5, 0.25, 2]
        let values = image.normalizedCHW(mean: mean, std: std)
        let expected: [Float] = [-1, 1, -0.2, 1.4, 0.2, 0.4]
        let maxDifference = zip(values, expected).map { abs($0 - $1) }.max() ?? 0
        #expect(maxDifference < 1e-6, "max difference \(maxDifference), got \(values)")
    }
}
