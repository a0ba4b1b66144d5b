import Testing
@testable import ImageCodec

@Suite struct JPEGTests {
    @Test(arguments: [ColorMode.gray, .rgb])
    func roundTripStaysWithinTolerance(mode: ColorMode) throws {
        let image = try TestImages.gradient(width: 32, height: 24, mode: mode)
        let data = try image.jpegData(quality: 95)
        #expect(ImageFormat.sniff(data) == .jpeg)
        let decoded = try ImageDecoder.decode(data)
        #expect(decoded.mode == mode && decoded.width == 32 && decoded.height == 24)
        let differences = zip(decoded.pixels, image.pixels).map { abs(Int($0) - Int($1)) }
        let maxDifference = differences.max() ?? 0
        let meanDifference = Double(differences.reduce(0, +)) / Double(differences.count)
        // Quality 95 with 4:2:0 chroma on a smooth gradient: small mean error, bounded peaks.
        #expect(meanDifference < 3, "mean |difference| \(meanDifference)")
        #expect(maxDifference < 40, "max |difference| \(maxDifference)")
    }
}
