import Foundation
import HTTPServer
import Testing

@Suite("Limits and abuse", .serialized)
struct LimitsTests {
    private static func smallLimits() -> HTTPServerConfiguration.Limits {
        var limits = HTTPServerConfiguration.Limits()
        limits.maxBodySize = 1024
        limits.maxHeaderListSize = 4096
        return limits
    }

    @Test(arguments: ["--http1.1", "--http2-prior-knowledge"])
    func oversizedBodyGets413(_ protocolFlag: String) async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 64 * 1024).write(to: directory.file("big"))
        let result = try await curl([protocolFlag, "--data-binary", "@" + directory.file("big").path, "-o", "/dev/null",
                               "-w", "%{http_code}", "\(running.base)/echo"])
        #expect(result.text == "413", "\(result.stderr)")
        let after = try await curl([protocolFlag, "\(running.base)/hello"])
        #expect(after.text == "hello\n")
        await running.stop()
    }

    @Test func largeHTTP2UploadPastTheLimitGets413AndSessionStaysUsable() async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 20 * 1024 * 1024).write(to: directory.file("big"))
        // nghttp sends both requests on one connection; the second must still be answered.
        let result = try await run("/usr/bin/nghttp", ["-v", "-d", directory.file("big").path,
                                                       "\(running.base)/echo?first", "\(running.base)/echo?second"])
        let statuses = result.text.components(separatedBy: ":status: 413").count - 1
        #expect(statuses == 2, "\(result.text.suffix(2000))")
        #expect(!result.text.contains("error_code=PROTOCOL_ERROR"))
        await running.stop()
    }

    @Test func oversizedChunkedBodyGets413() async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 64 * 1024).write(to: directory.file("big"))
        let result = try await curl(["--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + directory.file("big").path,
                               "-o", "/dev/null", "-w", "%{http_code}", "\(running.base)/echo"])
        #expect(result.text == "413", "\(result.stderr)")
        await running.stop()
    }

    @Test(arguments: ["--http1.1", "--http2-prior-knowledge"])
    func oversizedHeaderListGets431(_ protocolFlag: String) async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        let big = String(repeating: "a", count: 8000)
        let result = try await curl([protocolFlag, "-H", "x-big: \(big)", "-o", "/dev/null", "-w", "%{http_code}", "\(running.base)/hello"])
        #expect(result.text == "431", "\(result.stderr)")
        await running.stop()
    }

    @Test func clientVanishingMidBodyLeavesServerHealthy() async throws {
        let running = try RunningServer()
        do {
            let client = try RawClient(port: running.port)
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "z", count: 10))
        }
        #expect(await eventually(within: 10) { running.server.connectionCount == 0 })
        let after = try await curl(["--http2-prior-knowledge", "\(running.base)/hello"])
        #expect(after.text == "hello\n")
        await running.stop()
    }

    @Test func slowlorisIsCutOffByTheHeaderReadTimeout() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.headerReadTimeout = 0.5
        let running = try RunningServer(limits: limits)
        let client = try RawClient(port: running.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n")
        var closed = false
        // 100 drips of 50 ms would take 5 s, ten times the timeout.
        for _ in 0..<100 {
            try await Task.sleep(nanoseconds: 50_000_000)
            if client.isClosedByPeer || !client.send("X") {
                closed = true
                break
            }
        }
        #expect(closed)
        let after = try await curl(["\(running.base)/hello"])
        #expect(after.text == "hello\n")
        await running.stop()
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.idleTimeout = 0.3
        let running = try RunningServer(limits: limits)
        let client = try RawClient(port: running.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        #expect(closed)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("hello\n"))
        await running.stop()
    }

    @Test func connectionsPastTheLimitAreClosedAtOnce() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.maxConnections = 2
        let running = try RunningServer(limits: limits)
        var held: [RawClient]? = [try RawClient(port: running.port), try RawClient(port: running.port)]
        #expect(await eventually(within: 10) { running.server.connectionCount == 2 })
        let extra = try RawClient(port: running.port)
        #expect(await extra.receiveUntilClosed(timeout: 10).closed)
        #expect(held?.count == 2)
        held = nil
        #expect(await eventually(within: 10) { running.server.connectionCount == 0 })
        let after = try await curl(["\(running.base)/hello"])
        #expect(after.text == "hello\n")
        await running.stop()
    }
}
