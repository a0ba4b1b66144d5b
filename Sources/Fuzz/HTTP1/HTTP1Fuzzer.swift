import FuzzHTTPConnection
import FuzzSupport

/// Feeds bytes to a server connection as a client's cleartext stream: HTTP/1.1 requests,
/// pipelined, with bodies, chunked, or upgrading to h2c.
@main
enum HTTP1Fuzzer {
    static func main() { FuzzDriver.main(testOneInput) }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = FuzzDriver.bytes(data, size)
    FuzzConnection.run(bytes)
    return 0
}
