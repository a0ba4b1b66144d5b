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
        defer { running.stop() }
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 64 * 1024).write(to: directory.file("big"))
        let result = try await curl([protocolFlag, "--data-binary", "@" + directory.file("big").path, "-o", "/dev/null",
                               "-w", "%{http_code}", "\(running.base)/echo"])
        #expect(result.text == "413", "\(result.stderr)")
        let after = try await curl([protocolFlag, "\(running.base)/hello"])
        #expect(after.text == "hello\n")
    }

    @Test func largeHTTP2UploadPastTheLimitGets413AndSessionStaysUsable() async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        defer { running.stop() }
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 20 * 1024 * 1024).write(to: directory.file("big"))
        // nghttp sends both requests on one connection; the second must still be answered.
        let result = try await run("/usr/bin/nghttp", ["-v", "-d", directory.file("big").path,
                                                       "\(running.base)/echo?first", "\(running.base)/echo?second"])
        let statuses = result.text.components(separatedBy: ":status: 413").count - 1
        #expect(statuses == 2, "\(result.text.suffix(2000))")
        #expect(!result.text.contains("error_code=PROTOCOL_ERROR"))
    }

    @Test func oversizedChunkedBodyGets413() async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        defer { running.stop() }
        let directory = try TemporaryDirectory()
        try Data(repeating: 7, count: 64 * 1024).write(to: directory.file("big"))
        let result = try await curl(["--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + directory.file("big").path,
                               "-o", "/dev/null", "-w", "%{http_code}", "\(running.base)/echo"])
        #expect(result.text == "413", "\(result.stderr)")
    }

    @Test(arguments: ["--http1.1", "--http2-prior-knowledge"])
    func oversizedHeaderListGets431(_ protocolFlag: String) async throws {
        let running = try RunningServer(limits: Self.smallLimits())
        defer { running.stop() }
        let big = String(repeating: "a", count: 8000)
        let result = try await curl([protocolFlag, "-H", "x-big: \(big)", "-o", "/dev/null", "-w", "%{http_code}", "\(running.base)/hello"])
        #expect(result.text == "431", "\(result.stderr)")
    }

    @Test func clientVanishingMidBodyLeavesServerHealthy() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        do {
            let client = try RawClient(port: running.port)
            client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + String(repeating: "z", count: 10))
        }
        #expect(await eventually(within: 10) { running.server.connectionCount == 0 })
        let after = try await curl(["--http2-prior-knowledge", "\(running.base)/hello"])
        #expect(after.text == "hello\n")
    }

    @Test func clientThatStopsReadingDoesNotBlockOthers() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let stalled = try RawClient(port: running.port)
        stalled.send("GET /bytes?n=\(50 * 1024 * 1024) HTTP/1.1\r\nHost: x\r\n\r\n")
        // The stalled client never reads; its response waits behind a full socket buffer.
        // curl 7.88 cannot reuse an h2c connection (it fails even against nghttpd), hence two calls.
        for _ in 0..<2 {
            let result = try await curl(["--http2-prior-knowledge", "\(running.base)/hello"])
            #expect(result.text == "hello\n", "\(result.stderr)")
        }
    }

    @Test func slowlorisIsCutOffByTheHeaderReadTimeout() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.headerReadTimeout = 0.5
        let running = try RunningServer(limits: limits)
        defer { running.stop() }
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
    }

    @Test func clientStallingMidBodyIsClosedByTheIdleTimeout() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.idleTimeout = 0.3
        let running = try RunningServer(limits: limits)
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + String(repeating: "z", count: 10))
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        #expect(closed)
        #expect(bytes.isEmpty)
    }

    @Test func http2HeaderBlockThatNeverEndsIsCutOff() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.headerReadTimeout = 0.5
        let running = try RunningServer(limits: limits)
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        client.send([0, 0, 0, 0x4, 0, 0, 0, 0, 0])  // empty SETTINGS
        // HEADERS on stream 1 with END_STREAM but without END_HEADERS: CONTINUATION should follow.
        client.send([0, 0, 1, 0x1, 0x1, 0, 0, 0, 1, 0x82])
        #expect(await client.receiveUntilClosed(timeout: 10).closed)
    }

    @Test func idleKeepAliveConnectionIsClosed() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.idleTimeout = 0.3
        let running = try RunningServer(limits: limits)
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        #expect(closed)
        #expect(String(decoding: bytes, as: UTF8.self).hasSuffix("hello\n"))
    }

    @Test func connectionsPastTheLimitAreClosedAtOnce() async throws {
        var limits = HTTPServerConfiguration.Limits()
        limits.maxConnections = 2
        let running = try RunningServer(limits: limits)
        defer { running.stop() }
        var held: [RawClient]? = [try RawClient(port: running.port), try RawClient(port: running.port)]
        #expect(await eventually(within: 10) { running.server.connectionCount == 2 })
        let extra = try RawClient(port: running.port)
        #expect(await extra.receiveUntilClosed(timeout: 10).closed)
        #expect(held?.count == 2)
        held = nil
        #expect(await eventually(within: 10) { running.server.connectionCount == 0 })
        let after = try await curl(["\(running.base)/hello"])
        #expect(after.text == "hello\n")
    }
}
