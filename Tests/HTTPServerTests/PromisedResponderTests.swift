import Dispatch
import Foundation
import HTTPServer
import Logging
import Testing

/// Answers through the promise: `/later` from another queue after a few milliseconds, `/now`
/// synchronously, `/twice` twice (the first answer counts), `/dropped` never (the promise is
/// dropped); anything else goes to a task.
struct PromisingResponder: HTTPResponder {
    let promised = Counter()
    let taskAnswers = Counter()

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        switch request.path {
        case "/later":
            promised.increment()
            DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(3)) {
                promise.fulfil(.text("later \(request.version.rawValue) \(request.body.count)\n"))
            }
        case "/now":
            promised.increment()
            promise.fulfil(.text("now \(request.version.rawValue)\n"))
        case "/twice":
            promised.increment()
            DispatchQueue.global().async {
                promise.fulfil(.text("first\n"))
                promise.fulfil(.text("second\n", status: 500))
            }
        case "/dropped":
            promised.increment()
        default:
            promise.fulfil {
                taskAnswers.increment()
                return .text("task \(request.version.rawValue)\n")
            }
        }
    }
}

@Suite("Promised responses", .serialized)
struct PromisedResponderTests {
    private func start(_ responder: any HTTPResponder) throws -> (HTTPServer, String) {
        var logger = Logger(label: "http-test")
        logger.logLevel = .warning
        let server = try HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0),
                                    responder: responder, logger: logger)
        let port = try server.start()
        return (server, "http://127.0.0.1:\(port)")
    }

    @Test func promisesAnswerOnBothProtocolsFromAnyThread() async throws {
        let responder = PromisingResponder()
        let (server, base) = try start(responder)
        for (flag, version) in [("--http1.1", "HTTP/1.1"), ("--http2-prior-knowledge", "HTTP/2")] {
            let later = try await curl([flag, "--data-binary", "abcdef", "\(base)/later"])
            #expect(later.text == "later \(version) 6\n", "\(later.stderr)")
            let now = try await curl([flag, "\(base)/now"])
            #expect(now.text == "now \(version)\n", "\(now.stderr)")
            let twice = try await curl([flag, "-w", "%{http_code}", "\(base)/twice"])
            #expect(twice.text == "first\n200", "\(twice.stderr)")
            let dropped = try await curl([flag, "-o", "/dev/null", "-w", "%{http_code}", "\(base)/dropped"])
            #expect(dropped.text == "500", "\(dropped.stderr)")
            let task = try await curl([flag, "\(base)/other"])
            #expect(task.text == "task \(version)\n", "\(task.stderr)")
        }
        let keptAlive = try await curl(["--http1.1", "\(base)/later", "\(base)/now", "\(base)/other"])
        #expect(keptAlive.text == "later HTTP/1.1 0\nnow HTTP/1.1\ntask HTTP/1.1\n", "\(keptAlive.stderr)")
        #expect(responder.promised.current == 10)
        #expect(responder.taskAnswers.current == 3)
        await server.shutdown(deadline: .now() + 5)
    }

    @Test func manyPromisedStreamsOnFewConnections() async throws {
        let responder = PromisingResponder()
        let (server, base) = try start(responder)
        let load = try await run("/usr/bin/h2load", ["-n400", "-c2", "-m50", "\(base)/later"], timeout: 60)
        #expect(load.text.contains("400 succeeded, 0 failed, 0 errored"), "\(load.text)")
        let pipelined = try await run("/usr/bin/h2load", ["--h1", "-n200", "-c2", "-m8", "\(base)/later"], timeout: 60)
        #expect(pipelined.text.contains("200 succeeded, 0 failed, 0 errored"), "\(pipelined.text)")
        #expect(responder.promised.current == 600)
        await server.shutdown(deadline: .now() + 5)
    }
}
