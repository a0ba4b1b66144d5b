import Foundation
import Glibc

/// `fixserve serve` as a child process on a loopback port, to kill with SIGKILL and start
/// again on the same directories. Its output goes to a log file in `root`.
final class FixserveProcess {
    let process = Process()
    let port: Int
    let log: URL
    var base: String { "http://127.0.0.1:\(port)" }

    /// The fixserve built with this test bundle (`swift build --build-tests` builds it beside the bundle).
    static func executable() throws -> String {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("fixserve").path }
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw Failure("no fixserve beside \(CommandLine.arguments[0]) (swift build --build-tests builds it)")
        }
        return found
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }

    /// Starts `fixserve serve` and returns once it answers `/v2/health/live` (at most 30 s).
    init(models: URL, state: URL, port: Int, log: URL, extra: [String] = []) throws {
        self.port = port
        self.log = log
        if !FileManager.default.fileExists(atPath: log.path) { _ = FileManager.default.createFile(atPath: log.path, contents: nil) }
        let handle = try FileHandle(forWritingTo: log)
        handle.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: try Self.executable())
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", String(port), "--models", models.path,
                             "--state", state.path, "--poll-interval", "0", "--log-level", "warning"] + extra
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, process.isRunning {
            if (try? Client.curl(["--max-time", "2", "\(base)/v2/health/live"], timeout: 5))?.status == 200 { return }
            usleep(50_000)
        }
        stop()
        throw Failure("fixserve serve did not come up on port \(port): \((try? String(contentsOf: log, encoding: .utf8)) ?? "")")
    }

    /// Ends the process at once, as a crash or the OOM killer would.
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Asks the process to stop (SIGTERM) and waits at most 15 s before killing it.
    func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        kill()
    }

    /// A TCP port no one listens on now, from the kernel's ephemeral range.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw Failure("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    // MARK: - The API

    /// GET `path`, its JSON object.
    func get(_ path: String) throws -> [String: Any] {
        let (status, body) = try Client.curl(["\(base)\(path)"])
        guard status == 200, let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] else {
            throw Failure("GET \(path) answered \(status): \(body)")
        }
        return object
    }

    /// Submits a training job; its id.
    func submit(_ request: [String: Any]) throws -> String {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        let (status, answer) = try Client.curl(["-X", "POST", "-H", "content-type: application/json", "-d", body,
                                                "\(base)/v1/training/jobs"])
        guard status == 202, let object = try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any],
              let id = object["id"] as? String else {
            throw Failure("submitting \(body) answered \(status): \(answer)")
        }
        return id
    }

    /// Polls a job until `done` holds for it, every 100 ms for at most `timeout` seconds.
    func waitForJob(_ id: String, timeout: Double = 90, until done: ([String: Any]) -> Bool) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        var last: [String: Any] = [:]
        while Date() < deadline {
            last = try get("/v1/training/jobs/\(id)")
            if done(last) { return last }
            usleep(100_000)
        }
        throw Failure("job \(id) did not get there in \(timeout) s; last seen: \(last)")
    }

    /// Waits until a job has finished.
    func waitForEnd(_ id: String, timeout: Double = 90) throws -> [String: Any] {
        try waitForJob(id, timeout: timeout) { ["succeeded", "failed", "cancelled"].contains($0["state"] as? String ?? "") }
    }
}
