import ImageCodec
import FuzzSupport

/// Feeds bytes to the image decoder with the server's limits; the corpus holds PNG files, so
/// mutations stay mostly inside libspng and the PNG conversions.
@main
enum PNGFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? ImageDecoder.decode(bytes, limits: .default)
    return 0
}
