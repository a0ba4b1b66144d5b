import Foundation
import ModelStore
import FuzzSupport

/// Feeds bytes to the manifest decoder and validator (shapes through the whole backbone).
@main
enum ManifestFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    _ = try? ModelManifest(json: Data(bytes))
    return 0
}
