// A trivial server for scripts/bench-http: every path answers 200 with the same small body.
// Usage: HTTPBenchServer PORT [BODY_BYTES]
// The allocator the server runs with, so that the transport is measured as it serves.
import ProcessAllocator
import Dispatch
import Glibc
import HTTPServer
import Logging

let arguments = CommandLine.arguments
let port = arguments.count > 1 ? Int(arguments[1]) ?? 8080 : 8080
let bodySize = arguments.count > 2 ? Int(arguments[2]) ?? 13 : 13
let body: [UInt8] = bodySize == 13 ? Array("Hello, world\n".utf8) : (0..<bodySize).map { UInt8(truncatingIfNeeded: $0 % 64 + 32) }

var logger = Logger(label: "http-bench-server")
logger.logLevel = .warning
var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: port)
configuration.limits.maxConcurrentStreams = 256
let response = HTTPResponse(status: 200, headers: ["content-type": "text/plain"], body: .bytes(body))

do {
    // The route answers without suspending, so it takes the transport's immediate path (no task).
    let server = try HTTPServer(configuration: configuration, responder: HTTPClosureResponder(immediate: { _ in response }), logger: logger)
    let bound = try server.start()
    print("listening on \(bound)")
    let stop = ShutdownSignals { await server.shutdown(deadline: .now() + 5) }
    stop.install()
    dispatchMain()
} catch {
    logger.error("cannot start: \(error)")
    exit(1)
}
