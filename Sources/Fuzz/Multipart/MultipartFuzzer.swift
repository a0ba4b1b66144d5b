@testable import FixServeService
import FuzzSupport

/// Feeds bytes to the multipart/form-data parser.
/// Input: the Content-Type header value, a line feed, then the body.
@main
enum MultipartFuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    guard let newline = bytes.firstIndex(of: 10) else { return 0 }
    let contentType = String(decoding: bytes[..<newline], as: UTF8.self)
    guard let boundary = MultipartForm.boundary(fromContentType: contentType) else { return 0 }
    _ = try? MultipartForm(body: Array(bytes[(newline + 1)...]), boundary: boundary)
    return 0
}
