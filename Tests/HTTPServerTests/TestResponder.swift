import Foundation
import HTTPServer

/// Routes used by the transport tests:
/// - `/hello` → "hello\n"
/// - `/echo` → the request body
/// - `/bytes?n=N` → N bytes of `TestResponder.pattern`
/// - `/slow?ms=N` → "slow\n" after N milliseconds
/// - `/sse?n=N` → N server-sent events, streamed
/// - `/peer` → the client's address (equal for two requests on one connection)
/// - `/info` → "METHOD VERSION"
/// - `/distinct-fields` → 200 if no header field name repeats, else 500
struct TestResponder: AsyncHTTPResponder {
    let slowRequestsStarted = Counter()

    func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch request.path {
        case "/hello":
            return .text("hello\n")
        case "/echo":
            return HTTPResponse(status: 200, headers: ["content-type": "application/octet-stream"], body: .bytes(request.body))
        case "/bytes":
            let count = request.queryValue("n").flatMap(Int.init) ?? 0
            return HTTPResponse(status: 200, body: .bytes(TestResponder.pattern(count: count)))
        case "/slow":
            slowRequestsStarted.increment()
            let milliseconds = request.queryValue("ms").flatMap(UInt64.init) ?? 500
            try? await Task.sleep(nanoseconds: milliseconds * 1_000_000)
            return .text("slow\n")
        case "/sse":
            let count = request.queryValue("n").flatMap(Int.init) ?? 3
            let stream = AsyncStream<[UInt8]> { continuation in
                Task {
                    for index in 0..<count {
                        continuation.yield(Array("data: event \(index)\n\n".utf8))
                        try? await Task.sleep(nanoseconds: 10_000_000)
                    }
                    continuation.finish()
                }
            }
            return HTTPResponse(status: 200, headers: ["content-type": "text/event-stream"], body: .stream(stream))
        case "/peer":
            return .text(request.remoteAddress + "\n")
        case "/info":
            return .text("\(request.method) \(request.version.rawValue)\n")
        case "/distinct-fields":
            // 500 if a field name repeats: a request saw fields left over from an earlier one.
            let names = request.headers.map(\.name)
            return .text("\(names.count)\n", status: Set(names).count == names.count ? 200 : 500)
        default:
            return .text("not found\n", status: 404)
        }
    }

    /// Deterministic bytes with a period that is not a power of two, so misplaced chunks show.
    static func pattern(count: Int) -> [UInt8] {
        let block = (0..<65_521).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            bytes.append(contentsOf: block.prefix(count - bytes.count))
        }
        return bytes
    }

    static func events(count: Int) -> String {
        (0..<count).map { "data: event \($0)\n\n" }.joined()
    }
}

/// A thread-safe counter the tests poll.
final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0

    func increment() { lock.withLock { value += 1 } }
    var current: Int { lock.withLock { value } }
}
