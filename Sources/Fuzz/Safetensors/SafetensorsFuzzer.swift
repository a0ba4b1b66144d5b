import Foundation
import ModelStore
import FuzzSupport

/// Feeds bytes to the safetensors reader as a model file: it must throw `SafetensorsError`, never crash.
@main
enum SafetensorsFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? SafetensorsFile(bytes: Data(bytes))
    return 0
}
