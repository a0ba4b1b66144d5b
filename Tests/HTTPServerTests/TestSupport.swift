import Foundation
import HTTPServer
import Logging
import Testing

/// A server on a loopback ephemeral port with `TestResponder`; `defer { running.stop() }`.
final class RunningServer {
    let server: HTTPServer
    let port: Int
    let responder: TestResponder

    init(limits: HTTPServerConfiguration.Limits = .init(), tls: HTTPServerConfiguration.TLSFiles? = nil,
         placement: HTTPServerConfiguration.ResponderPlacement = .connectionQueue) throws {
        var logger = Logger(label: "http-test")
        logger.logLevel = .warning
        responder = TestResponder()
        var configuration = HTTPServerConfiguration(host: "127.0.0.1", port: 0, tls: tls, limits: limits)
        configuration.responderPlacement = placement
        server = try HTTPServer(configuration: configuration, responder: responder, logger: logger)
        port = try server.start()
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Shuts the server down (in-flight requests get 5 s) and returns when every connection is
    /// closed. It waits on the transport's queues, not on a task, so tests call it in a `defer`
    /// and a failing test leaves no server behind.
    func stop() {
        let stopped = DispatchSemaphore(value: 0)
        server.shutdown(deadline: .now() + 5) { stopped.signal() }
        stopped.wait()
    }
}

/// The outcome of a finished (or killed) subprocess.
struct ProcessResult {
    var status: Int32
    var stdout: Data
    var stderr: String
    var timedOut: Bool

    var text: String { String(decoding: stdout, as: UTF8.self) }
}

/// Runs client programs (curl, h2load, openssl) with a time limit.
enum Subprocess {
    static func run(_ executable: String, _ arguments: [String], timeout: Double = 60) throws -> ProcessResult {
        let running = try start(executable, arguments)
        return running.blockingWait(timeout: timeout)
    }

    static func start(_ executable: String, _ arguments: [String]) throws -> RunningProcess {
        let directory = try TemporaryDirectory()
        let stdoutURL = directory.url.appendingPathComponent("stdout")
        let stderrURL = directory.url.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        try process.run()
        return RunningProcess(process: process, directory: directory, stdoutURL: stdoutURL, stderrURL: stderrURL)
    }
}

struct RunningProcess {
    let process: Process
    let directory: TemporaryDirectory
    let stdoutURL: URL
    let stderrURL: URL

    func wait(timeout: Double) async -> ProcessResult {
        (try? await offloaded { self.blockingWait(timeout: timeout) }) ?? ProcessResult(status: -1, stdout: Data(), stderr: "", timedOut: true)
    }

    fileprivate func blockingWait(timeout: Double) -> ProcessResult {
        let deadline = Date().addingTimeInterval(timeout)
        var timedOut = false
        while process.isRunning {
            if Date() > deadline {
                timedOut = true
                process.terminate()
                process.waitUntilExit()
                break
            }
            usleep(10_000)
        }
        let stdout = (try? Data(contentsOf: stdoutURL)) ?? Data()
        let stderr = (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? ""
        return ProcessResult(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }
}

/// A directory removed when the value is released.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("fixserve-http-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// curl with the options every test wants: silent, errors shown, bounded time.
func curl(_ arguments: [String], timeout: Double = 60) async throws -> ProcessResult {
    try await run("/usr/bin/curl", ["-sS", "--max-time", String(Int(timeout))] + arguments, timeout: timeout + 5)
}

/// Runs a client program without blocking the concurrency pool the server's responders use.
func run(_ executable: String, _ arguments: [String], timeout: Double = 60) async throws -> ProcessResult {
    try await offloaded { try Subprocess.run(executable, arguments, timeout: timeout) }
}

/// Runs blocking work (waiting on processes and sockets) on a Dispatch thread, so the
/// cooperative pool stays free for the server under test.
func offloaded<T>(_ work: @escaping () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global().async {
            continuation.resume(with: Result { try work() })
        }
    }
}

/// Polls `condition` every 20 ms for at most `seconds`; returns whether it became true.
func eventually(within seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        try? await Task.sleep(nanoseconds: 20_000_000)
    }
    return condition()
}
