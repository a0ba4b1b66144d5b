import Foundation
import HTTPServer
import Logging
import Testing

/// Answers every request from work handed to the connection's loop: `/turn` from the responder
/// itself (inside the loop's turn for the socket), `/queued` from a block queued on the loop's
/// queue (outside a turn, so in a turn of its own). It records whether each piece of work ran
/// after the call that handed it on had returned, and for `/turn` on that call's thread.
final class HandOnResponder: HTTPResponder, @unchecked Sendable {
    private let lock = NSLock()
    private var ran = 0
    private var problems: [String] = []

    var runs: Int { lock.withLock { ran } }
    var failures: [String] { lock.withLock { problems } }

    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        switch request.path {
        case "/turn":
            handOn(from: promise, path: "/turn")
        case "/queued":
            promise.connectionQueue.async { self.handOn(from: promise, path: "/queued") }
        default:
            promise.fulfil(.text("not found\n", status: 404))
        }
    }

    private func handOn(from promise: HTTPResponsePromise, path: String) {
        let caller = pthread_self()
        let returned = Flag()
        promise.connectionLoop.afterCurrentWork {
            self.lock.withLock {
                self.ran += 1
                if path == "/turn", pthread_equal(pthread_self(), caller) == 0 { self.problems.append("\(path): ran on another thread") }
                if !returned.isSet { self.problems.append("\(path): ran before the caller returned") }
            }
            promise.fulfil(.text("handed on \(path)\n"))
        }
        returned.set()
    }
}

/// A flag one thread sets and another reads.
private final class Flag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

@Suite("Work handed to a connection's loop", .serialized)
struct ConnectionLoopTests {
    private func start(_ responder: any HTTPResponder) throws -> (HTTPServer, String) {
        var logger = Logger(label: "http-test")
        logger.logLevel = .warning
        let server = try HTTPServer(configuration: HTTPServerConfiguration(host: "127.0.0.1", port: 0), responder: responder,
                                    logger: logger)
        return (server, "http://127.0.0.1:\(try server.start())")
    }

    /// Work handed on inside a turn (the socket's) runs on that turn's thread after the call that
    /// handed it on; outside one (a queued block), after it too; and its answers reach the clients:
    /// many streams on few connections, so one turn hands on several requests' work.
    @Test func handedOnWorkRunsAfterItsCallerOnTheSameThread() async throws {
        let responder = HandOnResponder()
        let (server, base) = try start(responder)
        for path in ["/turn", "/queued"] {
            let result = try await run("/usr/bin/h2load", ["-n400", "-c2", "-m32", "\(base)\(path)"], timeout: 60)
            #expect(result.text.contains("400 succeeded, 0 failed, 0 errored"), "\(path): \(result.text)")
        }
        let answer = try await curl(["--http2-prior-knowledge", "-s", "\(base)/queued"])
        #expect(answer.text == "handed on /queued\n", "\(answer.stderr)")
        #expect(responder.runs == 801)
        #expect(responder.failures.isEmpty, "\(responder.failures.prefix(5))")
        await server.shutdown(deadline: .now() + 5)
    }
}
