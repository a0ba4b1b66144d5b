import FixServeService
import FuzzSupport

/// Feeds bytes to the Open Inference Protocol decoder as a body with binary tensor data.
/// Input: the `Inference-Header-Content-Length` value as 2 little-endian bytes, then the body.
@main
enum OIPBinaryFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard bytes.count >= 2 else { return 0 }
    let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
    _ = try? InferenceRequest.decode(body: Array(bytes[2...]), headerLength: headerLength)
    return 0
}
