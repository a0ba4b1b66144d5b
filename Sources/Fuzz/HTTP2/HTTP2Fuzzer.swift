import FuzzHTTPConnection
import FuzzSupport

/// Feeds bytes to a server connection after the HTTP/2 client preface: frames (SETTINGS,
/// HEADERS with HPACK, DATA, RST_STREAM, WINDOW_UPDATE, ...). The preface is added here so
/// that mutations spend their effort on the frames.
@main
enum HTTP2Fuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    FuzzConnection.run(FuzzConnection.http2Preface + bytes)
    return 0
}
