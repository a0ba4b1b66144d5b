import Foundation
import HTTPServer
import Testing

@Suite("HTTP/2 in cleartext", .serialized)
struct HTTP2Tests {
    @Test func priorKnowledgeRequestIsAnsweredOverHTTP2() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await curl(["--http2-prior-knowledge", "-w", "%{http_version} %{http_code}", "\(running.base)/info"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "GET HTTP/2\n2 200")
    }

    @Test func respondersOnTheConcurrencyPoolAnswerToo() async throws {
        let running = try RunningServer(placement: .concurrencyPool)
        defer { running.stop() }
        let http2 = try await curl(["--http2-prior-knowledge", "\(running.base)/info"])
        #expect(http2.text == "GET HTTP/2\n", "\(http2.stderr)")
        let many = try await run("/usr/bin/h2load", ["-n100", "-c1", "-m100", "\(running.base)/slow?ms=10"])
        #expect(many.text.contains("100 succeeded, 0 failed"), "\(many.text)")
        let http1 = try await curl(["--http1.1", "\(running.base)/info"])
        #expect(http1.text == "GET HTTP/1.1\n", "\(http1.stderr)")
    }

    @Test func upgradeFromHTTP1BecomesStreamOne() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await curl(["--http2", "-v", "-w", "%{http_version} %{http_code}", "\(running.base)/info"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "GET HTTP/2\n2 200")
        #expect(result.stderr.contains("101 Switching Protocols"))
    }

    @Test func hundredConcurrentStreamsOnOneConnectionAllSucceed() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await run("/usr/bin/h2load", ["-n100", "-c1", "-m100", "\(running.base)/hello"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.contains("100 total, 100 started, 100 done, 100 succeeded, 0 failed, 0 errored"), "\(result.text)")
    }

    @Test func streamsReusedOnOneConnectionStartWithoutEarlierFields() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        // Closed streams' objects are reused; every request must see only its own fields.
        let result = try await run("/usr/bin/h2load", ["-n2000", "-c1", "-m32", "-H", "x-probe: 1",
                                                       "\(running.base)/distinct-fields"], timeout: 60)
        #expect(result.text.contains("2000 succeeded, 0 failed, 0 errored"), "\(result.text)")
        #expect(result.text.contains("2000 2xx, 0 3xx, 0 4xx, 0 5xx"), "\(result.text)")
    }

    @Test func hundredConcurrentStreamsWithNghttpClient() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await run("/usr/bin/nghttp", ["-n", "-s", "-m", "100", "\(running.base)/hello"], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        let completed = result.text.split(separator: "\n").filter { $0.contains("/hello") }.count
        #expect(completed == 100, "\(result.text)")
    }

    @Test func fiftyMegabyteUploadAndDownloadAreByteExact() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let directory = try TemporaryDirectory()
        let size = 50 * 1024 * 1024
        let payload = Data(TestResponder.pattern(count: size).reversed())
        try payload.write(to: directory.file("upload"))
        let upload = try await curl(["--http2-prior-knowledge", "--data-binary", "@" + directory.file("upload").path,
                               "-H", "content-type: application/octet-stream",
                               "-o", directory.file("echoed").path, "-w", "%{http_code}", "\(running.base)/echo"], timeout: 120)
        #expect(upload.status == 0, "\(upload.stderr)")
        #expect(upload.text == "200")
        let echoed = try Data(contentsOf: directory.file("echoed"))
        #expect(echoed.count == size)
        #expect(echoed == payload)

        let download = try await curl(["--http2-prior-knowledge", "-o", directory.file("downloaded").path, "-w", "%{http_code}",
                                 "\(running.base)/bytes?n=\(size)"], timeout: 120)
        #expect(download.status == 0, "\(download.stderr)")
        let downloaded = try Data(contentsOf: directory.file("downloaded"))
        #expect(downloaded.count == size)
        #expect(downloaded == Data(TestResponder.pattern(count: size)))
    }

    @Test func serverSentEventsArriveAsAStream() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await curl(["--http2-prior-knowledge", "-N", "\(running.base)/sse?n=5"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == TestResponder.events(count: 5))
    }

    @Test func garbageAfterThePrefaceEndsTheConnectionWithGoaway() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        client.send([UInt8](repeating: 0xFF, count: 64))
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        #expect(closed)
        #expect(containsGoaway(bytes), "no GOAWAY frame in \(bytes.count) bytes")
        let after = try await curl(["--http2-prior-knowledge", "\(running.base)/hello"])
        #expect(after.text == "hello\n")
    }

    /// Walks the frames the server sent and looks for type 0x7.
    private func containsGoaway(_ bytes: [UInt8]) -> Bool {
        var offset = 0
        while offset + 9 <= bytes.count {
            let length = Int(bytes[offset]) << 16 | Int(bytes[offset + 1]) << 8 | Int(bytes[offset + 2])
            if bytes[offset + 3] == 0x7 { return true }
            offset += 9 + length
        }
        return false
    }
}
