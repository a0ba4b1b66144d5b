import Foundation
import Testing
@testable import FixServeService

/// The web page's routes through curl against the real server, over HTTP/1.1 (what browsers
/// speak in cleartext) and h2c: the page, its two files, their types and security headers.
@Suite(.serialized) struct WebPageTests {
    private func fetch(_ arguments: [String]) throws -> (status: Int, headers: [String: String], body: String) {
        let headers = FileManager.default.temporaryDirectory.appendingPathComponent("headers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: headers) }
        let (status, body) = try Client.curl(["-D", headers.path] + arguments)
        var fields: [String: String] = [:]
        for line in ((try? String(contentsOf: headers, encoding: .utf8)) ?? "").components(separatedBy: "\r\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, fields, body)
    }

    @Test func pageAndItsFilesAreServedOverHTTP1AndHTTP2() async throws {
        let server = try ServiceTestServer()
        for protocolFlag in ["--http1.1", "--http2-prior-knowledge"] {
            let page = try fetch([protocolFlag, "\(server.base)/"])
            #expect(page.status == 200, "\(protocolFlag): \(page.status)")
            #expect(page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.headers["content-security-policy"]?.contains("script-src 'self'") == true)
            #expect(page.headers["x-content-type-options"] == "nosniff")
            #expect(page.body.hasPrefix("<!doctype html>"))
            #expect(page.body.contains("<script src=\"/web/fixserve.js\" defer></script>"))
            #expect(page.body.contains("<link rel=\"stylesheet\" href=\"/web/fixserve.css\">"))
            #expect(!page.body.contains("{{"), "a placeholder was left in the page")
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "the page loads nothing from elsewhere")
            let script = try fetch([protocolFlag, "\(server.base)/web/fixserve.js"])
            #expect(script.status == 200 && script.headers["content-type"] == "text/javascript; charset=utf-8")
            #expect(script.body.contains("/v1/training/jobs") && script.body.contains("Bearer "))
            let style = try fetch([protocolFlag, "\(server.base)/web/fixserve.css"])
            #expect(style.status == 200 && style.headers["content-type"] == "text/css; charset=utf-8")
        }
        await server.stop()
    }

    @Test func trainingFormOffersEveryBackboneAndHead() async throws {
        let server = try ServiceTestServer()
        let page = try fetch(["\(server.base)/"]).body
        for preset in ["mlp", "cnn-small", "cnn-narrow", "resnet-8", "resnet-20"] {
            #expect(page.contains("<option value=\"\(preset)\""), "backbone \(preset) missing")
        }
        #expect(page.contains("<option value=\"cnn-small\" selected>"))
        for head in ["learned", "orthonormal", "hadamard"] { #expect(page.contains("<option value=\"\(head)\"")) }
        #expect(page.contains("<option value=\"hadamard\" selected>"))
        // Every form control has a label.
        let pattern = try NSRegularExpression(pattern: #"<(?:input|select) id="([^"]+)""#)
        let ids = pattern.matches(in: page, range: NSRange(page.startIndex..., in: page)).compactMap {
            Range($0.range(at: 1), in: page).map { String(page[$0]) }
        }
        #expect(ids.count >= 7)
        for id in ids { #expect(page.contains("for=\"\(id)\""), "no label for \(id)") }
        await server.stop()
    }

    @Test func unknownAssetIsNotFoundAndHeadHasNoBody() async throws {
        let server = try ServiceTestServer()
        let missing = try fetch(["\(server.base)/web/secrets.txt"])
        #expect(missing.status == 404)
        #expect(missing.body.contains("no web asset secrets.txt"))
        #expect(try fetch(["\(server.base)/web/..%2Fmodels"]).status == 404)
        let head = try fetch(["--head", "\(server.base)/"])
        #expect(head.status == 200 && head.headers["content-type"] == "text/html; charset=utf-8")
        let post = try fetch(["-X", "POST", "\(server.base)/"])
        #expect(post.status == 405 && post.headers["allow"] == "GET")
        await server.stop()
    }
}
