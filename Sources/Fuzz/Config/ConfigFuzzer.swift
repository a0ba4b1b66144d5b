import Foundation
import ModelStore
import FuzzSupport

/// Feeds bytes to the `config.json` decoder and validator, as `ModelConfig.load` does.
@main
enum ConfigFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    if let config = try? JSONDecoder().decode(ModelConfig.self, from: Data(bytes)) {
        try? config.validate()
    }
    return 0
}
