import FixServeService
import FuzzSupport

/// Feeds bytes to the Open Inference Protocol decoder as a JSON request body.
@main
enum OIPJSONFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? InferenceRequest.decode(body: bytes, headerLength: nil)
    return 0
}
