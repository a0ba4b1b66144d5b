import Dispatch
import Glibc
@testable import HTTPServer
import Logging

/// Drives one server `Connection` with fuzz input as a client's bytes would: the protocol is
/// chosen from the first bytes as `Connection` does (the HTTP/2 preface or HTTP/1.1), the
/// session gets the input in three pieces (so parsers resume mid-token), responses are pumped
/// out, and the connection is closed. The socket is one end of a Unix socket pair whose other
/// end is drained and dropped; nothing leaves the process.
public enum FuzzConnection {
    /// The HTTP/2 client connection preface.
    public static let http2Preface = Connection.http2Preface

    private static let closed = DispatchSemaphore(value: 0)
    private static var nextID = 0

    private static let context: ServerContext = {
        var limits = HTTPServerConfiguration.Limits()
        // Small limits, so that short inputs reach the rejections too.
        limits.maxBodySize = 64 * 1024
        limits.maxHeaderListSize = 8 * 1024
        limits.maxConcurrentStreams = 16
        limits.maxPipelinedRequests = 4
        var logger = Logger(label: "fuzz")
        logger.logLevel = .critical
        let context = ServerContext(configuration: HTTPServerConfiguration(limits: limits),
                                    responder: HTTPClosureResponder(immediate: FuzzConnection.respond),
                                    logger: logger, tlsContext: nil)
        context.connectionDidClose = { _ in closed.signal() }
        return context
    }()

    /// Echoes the body, so responses of every size go out; `HEAD` and 204 have none.
    @Sendable private static func respond(_ request: HTTPRequest) -> HTTPResponse {
        if request.path == "/empty" { return HTTPResponse(status: 204) }
        return HTTPResponse(status: 200, headers: ["content-type": "application/octet-stream"], body: .bytes(request.body))
    }

    /// Runs `input` through a fresh connection. Traps if the connection does not close.
    public static func run(_ input: [UInt8]) {
        var pair: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else { fatalError("socketpair: \(errno)") }
        for descriptor in pair { _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) | O_NONBLOCK) }
        let peer = pair[1]
        nextID += 1
        let connection: Connection
        do {
            connection = try Connection(id: nextID, descriptor: pair[0], remoteAddress: "fuzz", context: context)
        } catch {
            fatalError("cannot create a connection: \(error)")
        }
        connection.queue.sync {
            connection.start()
            let preface = Connection.http2Preface
            let isHTTP2 = input.count >= preface.count && input[0..<preface.count].elementsEqual(preface)
            connection.replaceHandler(isHTTP2 ? HTTP2Session(connection: connection, upgrade: nil) : HTTP1Session(connection: connection))
        }
        let pieceLength = max(1, (input.count + 2) / 3)
        var offset = 0
        while offset < input.count {
            let piece = Array(input[offset..<min(input.count, offset + pieceLength)])
            offset += piece.count
            connection.queue.sync {
                guard !connection.isClosed, let handler = connection.handler else { return }
                piece.withUnsafeBytes { handler.receive($0) }
                connection.pump()
            }
            drain(peer)
        }
        // Let pumps the session scheduled run, then close as a vanished client would.
        connection.queue.sync {}
        drain(peer)
        connection.queue.sync { connection.close() }
        guard closed.wait(timeout: .now() + 10) == .success else { fatalError("the connection did not close") }
        _ = Glibc.close(peer)
    }

    private static func drain(_ descriptor: Int32) {
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        for _ in 0..<1024 {
            let count = buffer.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
        }
    }
}
