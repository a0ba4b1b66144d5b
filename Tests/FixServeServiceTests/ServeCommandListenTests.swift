import Foundation
import Testing

/// `fixserve serve` itself (the binary built beside this test bundle): where it listens with
/// and without API keys, read from the kernel's table of listening sockets.
@Suite(.serialized) struct ServeCommandListenTests {
    static var fixserve: String? {
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        return [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("fixserve").path }
            .first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A port nobody listens on now.
    static func freePort() throws -> Int {
        let result = try Client.run("/usr/bin/env", ["python3", "-c",
            "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
        return try #require(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    /// The local addresses (hex, as /proc/net/tcp writes them) with a socket listening on `port`.
    static func listeningAddresses(port: Int) throws -> [String] {
        let table = try String(contentsOfFile: "/proc/net/tcp", encoding: .utf8)
        let portHex = String(format: "%04X", port)
        return table.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 3, fields[3] == "0A" else { return nil }
            let local = fields[1].split(separator: ":")
            return local.count == 2 && local[1] == portHex ? String(local[0]) : nil
        }
    }

    /// Runs `fixserve serve` on a free port with a one-model repository until it listens (or
    /// exits), hands over its port, then stops it with SIGTERM.
    static func serve(_ arguments: [String], environment: [String: String] = [:],
                      whileRunning check: (Int) throws -> Void) throws -> (status: Int32, output: String) {
        let fixserve = try #require(fixserve, "no fixserve beside \(CommandLine.arguments[0]) (swift build --build-tests builds it)")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fixserve-listen-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        try ServiceTestServer.writeModel(named: "tiny", into: root.appendingPathComponent("models"), seed: 5)
        let port = try freePort()
        let output = root.appendingPathComponent("output")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: fixserve)
        process.arguments = ["serve", "--port", String(port), "--models", root.appendingPathComponent("models").path,
                             "--state", root.appendingPathComponent("state").path, "--poll-interval", "0"] + arguments
        // Only what this test sets: no FIXSERVE_* of the machine running the tests.
        process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: output)
        try process.run()
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        for _ in 0..<600 {
            guard process.isRunning, try listeningAddresses(port: port).isEmpty else { break }
            usleep(50_000)
        }
        if process.isRunning { try check(port) }
        if process.isRunning { process.terminate() }
        for _ in 0..<400 where process.isRunning { usleep(50_000) }
        return (process.isRunning ? -1 : process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
    }

    static let loopback = "0100007F", any = "00000000"

    @Test func withoutKeysItListensOnLoopbackOnlyAndWarns() throws {
        let (_, output) = try Self.serve([]) { port throws in
            #expect(try Self.listeningAddresses(port: port) == [Self.loopback])
            #expect(try Client.curl(["http://127.0.0.1:\(port)/v1/training/jobs"]).status == 200)
        }
        #expect(output.contains("warning") && output.contains("no API keys configured"), "\(output.suffix(2000))")
    }

    @Test func withoutKeysAPublicHostIsRefusedUnlessInsecurePublic() throws {
        for (arguments, environment) in [(["--host", "0.0.0.0"], [:]), ([], ["FIXSERVE_HOST": "10.0.0.1"])] as [([String], [String: String])] {
            let (status, output) = try Self.serve(arguments, environment: environment) { port throws in
                Issue.record("it listened on \(try Self.listeningAddresses(port: port))")
            }
            #expect(status == 1, "\(output.suffix(2000))")
            #expect(output.contains("refusing to listen on") && output.contains("--insecure-public"), "\(output.suffix(2000))")
        }
        let (_, output) = try Self.serve(["--host", "0.0.0.0", "--insecure-public"]) { port throws in
            #expect(try Self.listeningAddresses(port: port) == [Self.any])
        }
        #expect(output.contains("no API keys configured"), "\(output.suffix(2000))")
    }

    @Test func withKeysItListensOnEveryAddressByDefault() throws {
        let key = "admin-key-0123456789abcdef"
        let (_, output) = try Self.serve([], environment: ["FIXSERVE_API_KEYS": "admin \(key) ops"]) { port throws in
            #expect(try Self.listeningAddresses(port: port) == [Self.any])
            #expect(try Client.curl(["http://127.0.0.1:\(port)/v1/training/jobs"]).status == 401)
            #expect(try Client.curl(["-H", "Authorization: Bearer \(key)", "http://127.0.0.1:\(port)/v1/training/jobs"]).status == 200)
        }
        #expect(!output.contains(key), "the log shows the key:\n\(output.suffix(2000))")
        #expect(!output.contains("no API keys configured"))
    }

    @Test func theServerRunsOnJemallocAndReportsItsTotals() throws {
        let (_, output) = try Self.serve([]) { port throws in
            let metrics = try Client.curl(["http://127.0.0.1:\(port)/metrics"])
            #expect(metrics.status == 200)
            for name in ["fixserve_allocator_allocated_bytes", "fixserve_allocator_resident_bytes"] {
                let line = metrics.body.split(separator: "\n").first { $0.hasPrefix(name + " ") }
                let value = line.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
                // A server with a model loaded holds at least its weights and buffers.
                #expect(value > 100_000, "\(name): \(line ?? "missing")")
            }
        }
        #expect(output.contains("jemalloc=5."), "\(output.suffix(2000))")
    }

    @Test func aBadKeyFileStopsTheServerWithTheLineAtFault() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try Data("# keys\nadmin admin-key-0123456789abcdef\nsuperuser some-other-key-0123456789\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try Self.serve(["--auth-file", file.path]) { _ throws in Issue.record("it started") }
        #expect(status == 1)
        #expect(output.contains("\(file.path), line 3: the first field must be the role"), "\(output.suffix(2000))")
        #expect(!output.contains("some-other-key"))
    }
}
