import Foundation
import HTTPServer
import Testing

@Suite("HTTP/1.1", .serialized)
struct HTTP1Tests {
    @Test func keepAliveReusesOneConnectionForTwoRequests() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await curl(["--http1.1", "-v", "\(running.base)/peer", "\(running.base)/peer"])
        #expect(result.status == 0, "\(result.stderr)")
        let peers = result.text.split(separator: "\n")
        #expect(peers.count == 2)
        #expect(peers.first == peers.last, "two connections: \(peers)")
        #expect(result.stderr.contains("Re-using existing connection"))
    }

    @Test func chunkedUploadIsReassembled() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let directory = try TemporaryDirectory()
        let payload = Data(TestResponder.pattern(count: 3 * 1024 * 1024 + 17))
        try payload.write(to: directory.file("upload"))
        let result = try await curl(["--http1.1", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + directory.file("upload").path,
                               "-o", directory.file("echoed").path, "-w", "%{http_code}", "\(running.base)/echo"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "200")
        #expect(try Data(contentsOf: directory.file("echoed")) == payload)
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("GET /slow?ms=200 HTTP/1.1\r\nHost: x\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(closed)
        let slow = text.range(of: "slow\n")
        let hello = text.range(of: "hello\n")
        #expect(slow != nil && hello != nil, "\(text)")
        if let slow, let hello { #expect(slow.lowerBound < hello.lowerBound) }
    }

    @Test func streamedBodyUsesChunkedCoding() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let result = try await curl(["--http1.1", "-N", "-D", "-", "\(running.base)/sse?n=4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text.lowercased().contains("transfer-encoding: chunked"))
        #expect(result.text.hasSuffix(TestResponder.events(count: 4)))
    }

    @Test func garbageInsteadOfARequestGets400AndClose() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send([0x16, 0x03, 0x01, 0x00, 0xFF] + Array("\u{1}\u{2} nonsense\r\n\r\n".utf8))
        let (bytes, closed) = await client.receiveUntilClosed(timeout: 10)
        #expect(closed)
        #expect(String(decoding: bytes, as: UTF8.self).hasPrefix("HTTP/1.1 400"))
        let after = try await curl(["\(running.base)/hello"])
        #expect(after.text == "hello\n")
    }

    @Test func headRequestGetsHeadersWithoutBody() async throws {
        let running = try RunningServer()
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        let (bytes, _) = await client.receiveUntilClosed(timeout: 10)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.hasPrefix("HTTP/1.1 200 OK\r\n"))
        #expect(text.contains("content-length: 6\r\n"))
        #expect(text.hasSuffix("\r\n\r\n"))
    }
}
