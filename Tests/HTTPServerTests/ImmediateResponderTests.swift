import Foundation
import HTTPServer
import Logging
import Testing

/// Answers `/now` at once and everything else (`/later`, `/sse`) from a task, counting which
/// way each request took.
struct MixedResponder: HTTPResponder {
    let immediateAnswers = Counter()
    let taskAnswers = Counter()

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        guard request.path != "/now" else {
            immediateAnswers.increment()
            return promise.fulfil(.text("now \(request.method) \(request.version.rawValue)\n"))
        }
        promise.fulfil { await later(request) }
    }

    private func later(_ request: HTTPRequest) async -> HTTPResponse {
        taskAnswers.increment()
        switch request.path {
        case "/later":
            try? await Task.sleep(nanoseconds: 5_000_000)
            return .text("later \(request.version.rawValue)\n")
        case "/sse":
            let stream = AsyncStream<[UInt8]> { continuation in
                for index in 0..<3 { continuation.yield(Array("data: \(index)\n\n".utf8)) }
                continuation.finish()
            }
            return HTTPResponse(status: 200, headers: ["content-type": "text/event-stream"], body: .stream(stream))
        default:
            return .text("not found\n", status: 404)
        }
    }
}

@Suite("Immediate responses", .serialized)
struct ImmediateResponderTests {
    private func start(_ responder: any HTTPResponder,
                       placement: HTTPServerConfiguration.ResponderPlacement = .connectionQueue) throws -> (HTTPServer, String) {
        var logger = Logger(label: "http-test")
        logger.logLevel = .warning
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0)
        configuration.responderPlacement = placement
        let server = try HTTPServer(configuration: configuration, responder: responder, logger: logger)
        let port = try server.start()
        return (server, "http://127.0.0.1:\(port)")
    }

    @Test(arguments: [HTTPServerConfiguration.ResponderPlacement.connectionQueue, .concurrencyPool])
    func immediateAndTaskAnswersMixOnBothProtocols(_ placement: HTTPServerConfiguration.ResponderPlacement) async throws {
        let responder = MixedResponder()
        let (server, base) = try start(responder, placement: placement)
        let expected = ["/now": "now GET %@\n", "/later": "later %@\n", "/sse": "data: 0\n\ndata: 1\n\ndata: 2\n\n"]
        // One connection per request: curl 7.88 fails to reuse a prior-knowledge HTTP/2
        // connection (nghttpd too), so requests are not chained in one curl call.
        for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2-prior-knowledge", "HTTP/2")] {
            for path in ["/now", "/later", "/sse"] {
                let result = try await curl([flag, "\(base)\(path)"])
                #expect(result.text == expected[path]!.replacingOccurrences(of: "%@", with: version), "\(path) \(flag): \(result.stderr)")
            }
        }
        let keptAlive = try await curl(["--http1.1", "\(base)/now", "\(base)/later", "\(base)/now"])
        #expect(keptAlive.text == "now GET HTTP/1.1\nlater HTTP/1.1\nnow GET HTTP/1.1\n", "\(keptAlive.stderr)")
        let upgraded = try await curl(["--http2", "-I", "-o", "/dev/null", "-w", "%{http_version} %{http_code}", "\(base)/now"])
        #expect(upgraded.text == "2 200", "\(upgraded.stderr)")
        #expect(responder.immediateAnswers.current == 5)
        #expect(responder.taskAnswers.current == 5)
        await server.shutdown(deadline: .now() + 5)
    }

    @Test func manyStreamsOfBothKindsOnOneConnection() async throws {
        let responder = MixedResponder()
        let (server, base) = try start(responder)
        let directory = try TemporaryDirectory()
        let paths = (0..<200).map { $0 % 2 == 0 ? "\(base)/now" : "\(base)/later" }
        try paths.joined(separator: "\n").write(to: directory.file("urls"), atomically: true, encoding: .utf8)
        let result = try await run("/usr/bin/h2load", ["-n200", "-c2", "-m50", "-i", directory.file("urls").path], timeout: 60)
        #expect(result.text.contains("200 succeeded, 0 failed, 0 errored"), "\(result.text)")
        #expect(responder.immediateAnswers.current == 100)
        #expect(responder.taskAnswers.current == 100)
        await server.shutdown(deadline: .now() + 5)
    }

    @Test func immediateClosureResponderAnswersBothProtocols() async throws {
        let (server, base) = try start(HTTPClosureResponder(immediate: { request in .text("\(request.path) \(request.version.rawValue)\n") }))
        let http1 = try await curl(["--http1.1", "\(base)/a"])
        #expect(http1.text == "/a HTTP/1.1\n", "\(http1.stderr)")
        let http2 = try await curl(["--http2-prior-knowledge", "\(base)/b"])
        #expect(http2.text == "/b HTTP/2\n", "\(http2.stderr)")
        let load = try await run("/usr/bin/h2load", ["-n1000", "-c4", "-m16", "\(base)/c"], timeout: 60)
        #expect(load.text.contains("1000 succeeded, 0 failed, 0 errored"), "\(load.text)")
        let pipelined = try await run("/usr/bin/h2load", ["--h1", "-n200", "-c2", "-m8", "\(base)/d"], timeout: 60)
        #expect(pipelined.text.contains("200 succeeded, 0 failed, 0 errored"), "\(pipelined.text)")
        await server.shutdown(deadline: .now() + 5)
    }
}
