import Foundation
import ImageCodec
import Testing
@testable import FixServeService

/// Each kind of bad input gets a 4xx with a JSON error saying what is wrong, and the server keeps
/// answering afterwards.
@Suite(.serialized) struct BadInputTests {
    struct Case: CustomStringConvertible {
        var name: String
        var path: String
        var contentType: String
        var body: [UInt8]
        var headers: [String] = []
        var status: Int
        var mentions: String
        var description: String { name }
    }

    static func json(_ text: String) -> [UInt8] { Array(text.utf8) }

    static func png(width: Int, height: Int) throws -> [UInt8] {
        try Image(width: width, height: height, mode: .gray, repeating: 100).pngData()
    }

    /// A PNG whose header declares `width` × `height`, with a valid header checksum.
    static func bombPNG(width: UInt32, height: UInt32) throws -> [UInt8] {
        var bytes = try png(width: 4, height: 4)
        let be = { (v: UInt32) in [UInt8(v >> 24), UInt8(v >> 16 & 0xff), UInt8(v >> 8 & 0xff), UInt8(v & 0xff)] }
        bytes.replaceSubrange(16..<20, with: be(width))
        bytes.replaceSubrange(20..<24, with: be(height))
        bytes.replaceSubrange(29..<33, with: be(crc32(Array(bytes[12..<29]))))
        return bytes
    }

    static func crc32(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xffff_ffff
        for byte in data {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func cases() throws -> [Case] {
        let infer = "/v2/models/tiny/infer"
        let good = try png(width: 28, height: 28)
        var badCRC = good
        badCRC[30] ^= 0xff
        let binaryHeader = json(#"{"inputs":[{"name":"input","shape":[1,28,28],"datatype":"UINT8","parameters":{"binary_data_size":784}}]}"#)
        return [
            Case(name: "wrong shape", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1,3,28,28],"datatype":"FP32","data":[0]}]}"#), status: 400, mentions: "declares"),
            Case(name: "wrong shape for the model", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1,2],"datatype":"FP32","data":[0,1]}]}"#), status: 400, mentions: "shape"),
            Case(name: "wrong datatype", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1],"datatype":"INT64","data":[1]}]}"#), status: 400, mentions: "INT64"),
            Case(name: "NaN", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[NaN]}]}"#), status: 400, mentions: "JSON"),
            Case(name: "strings as numbers", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[2],"datatype":"FP32","data":["1","2"]}]}"#), status: 400, mentions: "expected a number"),
            Case(name: "data shorter than the shape", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[1,2,3]}]}"#), status: 400, mentions: "784"),
            Case(name: "a shape of 10^9 elements", path: infer, contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1000,1,1000,1000],"datatype":"FP32","data":[1]}]}"#), status: 400, mentions: "more than"),
            Case(name: "binary size mismatch", path: infer, contentType: "application/octet-stream",
                 body: binaryHeader + [1, 2, 3],
                 headers: ["Inference-Header-Content-Length: \(binaryHeader.count)"], status: 400, mentions: "binary_data_size"),
            Case(name: "unknown model", path: "/v2/models/nope/infer", contentType: "application/json",
                 body: json(#"{"inputs":[]}"#), status: 404, mentions: "nope"),
            Case(name: "unknown version", path: "/v2/models/tiny/versions/9/infer", contentType: "application/json",
                 body: json(#"{"inputs":[{"name":"input","shape":[1],"datatype":"FP32","data":[1]}]}"#), status: 404, mentions: "version 9"),
            Case(name: "truncated PNG", path: "/predictions/tiny", contentType: "image/png",
                 body: Array(good.prefix(good.count / 2)), status: 400, mentions: "PNG"),
            Case(name: "bad CRC", path: "/predictions/tiny", contentType: "image/png", body: badCRC, status: 400, mentions: "PNG"),
            Case(name: "JPEG garbage", path: "/predictions/tiny", contentType: "image/jpeg",
                 body: [0xff, 0xd8, 0xff, 0xe0] + Array(repeating: 0x42, count: 200), status: 400, mentions: "JPEG"),
            Case(name: "a PNG declaring 100000×100000 pixels", path: "/predictions/tiny", contentType: "image/png",
                 body: try bombPNG(width: 100_000, height: 100_000), status: 413, mentions: "100000"),
            Case(name: "an empty body", path: "/predictions/tiny", contentType: "image/png", body: [], status: 400, mentions: "empty"),
            Case(name: "an empty infer body", path: infer, contentType: "application/json", body: [], status: 400, mentions: "empty"),
            Case(name: "an unsupported content type", path: "/predictions/tiny", contentType: "text/plain",
                 body: json("hello"), status: 415, mentions: "text/plain"),
            Case(name: "deeply nested JSON", path: infer, contentType: "application/json",
                 body: json(String(repeating: "[", count: 5000) + String(repeating: "]", count: 5000)), status: 400, mentions: "deeper"),
            Case(name: "a training request a browser form could send", path: "/v1/training/jobs", contentType: "text/plain",
                 body: json(#"{"model":"x"}"#), status: 415, mentions: "application/json"),
            Case(name: "an unload a browser form could send", path: "/v2/repository/models/tiny/unload",
                 contentType: "application/x-www-form-urlencoded", body: json("a=b"), status: 415, mentions: "application/json"),
            Case(name: "a bad training request", path: "/v1/training/jobs", contentType: "application/json",
                 body: json(#"{"model":"x","epochs":"many"}"#), status: 400, mentions: "epochs"),
        ]
    }

    @Test func everyBadInputGetsA4xxJSONErrorAndTheServerStaysUp() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        let directory = server.root.appendingPathComponent("bad")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (i, c) in try Self.cases().enumerated() {
            let file = directory.appendingPathComponent("body\(i)")
            try Data(c.body).write(to: file)
            var arguments = ["--http2-prior-knowledge", "-X", "POST", "--data-binary", "@\(file.path)", "-H", "content-type: \(c.contentType)"]
            for header in c.headers { arguments += ["-H", header] }
            let (status, body) = try Client.curl(arguments + ["\(server.base)\(c.path)"])
            #expect(status == c.status, "\(c.name): status \(status), body \(body)")
            let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
            let message = object?["error"] as? String ?? ""
            #expect(message.contains(c.mentions), "\(c.name): error \(body) should mention \(c.mentions)")
            let (alive, _) = try Client.curl(["--http2-prior-knowledge", "\(server.base)/v2/health/live"])
            #expect(alive == 200, "\(c.name): the server stopped answering")
        }
    }
}
