import ImageCodec
import FuzzSupport

/// Feeds bytes to the image decoder with the server's limits; the corpus holds JPEG files, so
/// mutations stay mostly inside TurboJPEG and the JPEG conversions.
@main
enum JPEGFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? ImageDecoder.decode(bytes, limits: .default)
    return 0
}
