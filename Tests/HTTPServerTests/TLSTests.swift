import Foundation
import HTTPServer
import Testing
import TLS

@Suite("TLS", .serialized)
struct TLSTests {
    /// Makes a self-signed certificate for localhost valid for one day.
    private func makeCertificate(in directory: TemporaryDirectory) async throws -> HTTPServerConfiguration.TLSFiles {
        let certificate = directory.file("cert.pem").path
        let key = directory.file("key.pem").path
        let result = try await run("/usr/bin/openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                                                             "-days", "1", "-keyout", key, "-out", certificate], timeout: 60)
        #expect(result.status == 0, "\(result.stderr)")
        return HTTPServerConfiguration.TLSFiles(certificatePath: certificate, privateKeyPath: key)
    }

    @Test func alpnSelectsHTTP2() async throws {
        let directory = try TemporaryDirectory()
        let running = try RunningServer(tls: try await makeCertificate(in: directory))
        defer { running.stop() }
        let result = try await curl(["-k", "--http2", "-w", "%{http_version} %{http_code}", "https://localhost:\(running.port)/info"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "GET HTTP/2\n2 200")
    }

    @Test func alpnFallsBackToHTTP11() async throws {
        let directory = try TemporaryDirectory()
        let running = try RunningServer(tls: try await makeCertificate(in: directory))
        defer { running.stop() }
        let result = try await curl(["-k", "--http1.1", "-w", "%{http_version} %{http_code}",
                               "https://localhost:\(running.port)/info", "https://localhost:\(running.port)/info"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.text == "GET HTTP/1.1\n1.1 200GET HTTP/1.1\n1.1 200")
    }

    @Test func largeUploadOverTLSIsByteExact() async throws {
        let directory = try TemporaryDirectory()
        let running = try RunningServer(tls: try await makeCertificate(in: directory))
        defer { running.stop() }
        let payload = Data(TestResponder.pattern(count: 5 * 1024 * 1024 + 3))
        try payload.write(to: directory.file("upload"))
        let result = try await curl(["-k", "--http2", "--data-binary", "@" + directory.file("upload").path,
                               "-o", directory.file("echoed").path, "https://localhost:\(running.port)/echo"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try Data(contentsOf: directory.file("echoed")) == payload)
    }

    @Test func plaintextClientOnTLSPortIsClosedAndServerStaysHealthy() async throws {
        let directory = try TemporaryDirectory()
        let running = try RunningServer(tls: try await makeCertificate(in: directory))
        defer { running.stop() }
        let client = try RawClient(port: running.port)
        client.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        #expect(await client.receiveUntilClosed(timeout: 10).closed)
        let after = try await curl(["-k", "https://localhost:\(running.port)/hello"])
        #expect(after.text == "hello\n")
    }

    @Test func missingCertificateThrowsWithPathAndOpenSSLMessage() throws {
        do {
            _ = try TLSContext(certificatePath: "/nonexistent/cert.pem", privateKeyPath: "/nonexistent/key.pem")
            Issue.record("expected an error")
        } catch let error as TLSError {
            #expect(error.operation == .loadCertificate)
            #expect(error.path == "/nonexistent/cert.pem")
            #expect(!error.messages.isEmpty)
        }
    }
}
