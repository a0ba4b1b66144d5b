import Foundation
import Testing
@testable import FixServeService

/// The served API against real clients: curl over HTTP/2 and HTTP/1.1, NVIDIA's tritonclient,
/// and 64 concurrent httpx HTTP/2 clients. Every answer is checked against offline inference.
@Suite(.serialized) struct RealClientTests {
    @Test func predictionsOverHTTP2AndHTTP1MatchOfflineInference() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        let images = try ServiceTestServer.images(count: 8)
        let expected = try OfflineExpectations(
            model: server.models.appendingPathComponent("tiny/1"), images: images,
            directory: server.root.appendingPathComponent("images"))
        _ = try expected.writeForClients(labels: ServiceTestServer.labels, pngOnly: false)
        for entry in expected.entries {
            let file = expected.directory.appendingPathComponent(entry.name).path
            // Plain `curl -T` sends PUT, as TorchServe users type it; POST is the documented method.
            for protocolFlag in ["--http2-prior-knowledge", "--http1.1"] {
                for method in [[], ["-X", "POST"]] {
                    let (status, body) = try Client.curl([protocolFlag, "-T", file, "-H", "content-type: application/octet-stream"]
                                                         + method + ["\(server.base)/predictions/tiny"])
                    #expect(status == 200, "\(protocolFlag) \(method) \(entry.name): \(status) \(body)")
                    let answer = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Double] ?? [:]
                    #expect(answer.count == 5)
                    let top = answer.max { $0.value < $1.value }
                    #expect(top?.key == entry.topLabel, "\(protocolFlag) \(entry.name): \(answer)")
                    #expect(abs((top?.value ?? 0) - Double(entry.probabilities.max() ?? -1)) < 1e-5)
                }
            }
        }
        // A multipart upload (TorchServe's form field `data`) gives the same answer.
        let first = expected.directory.appendingPathComponent(expected.entries[0].name).path
        let (status, body) = try Client.curl(["--http2-prior-knowledge", "-F", "data=@\(first)", "\(server.base)/predictions/tiny/1"])
        #expect(status == 200)
        let answer = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Double] ?? [:]
        #expect(answer.max { $0.value < $1.value }?.key == expected.entries[0].topLabel)
    }

    @Test func servedPredictionsEqualTheFixservePredictCommand() async throws {
        // The fixserve built with this test bundle sits beside it (.build/<triple>/<configuration>/).
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("fixserve").path }
        let fixserve = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "no fixserve beside \(CommandLine.arguments[0]) (swift build --build-tests builds it)")
        let server = try ServiceTestServer()
        defer { server.stop() }
        let images = try ServiceTestServer.images(count: 6)
        let directory = server.root.appendingPathComponent("predict")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var files: [String] = []
        for image in images {
            let url = directory.appendingPathComponent(image.name)
            try Data(image.bytes).write(to: url)
            files.append(url.path)
        }
        let offline = try Client.run(fixserve, ["predict", "--model", "tiny", "--models", server.models.path, "--json", "--top", "5"] + files)
        try #require(offline.status == 0, "fixserve predict failed: \(offline.stderr)")
        let lines = offline.stdout.split(separator: "\n")
        #expect(lines.count == files.count)
        for (file, line) in zip(files, lines) {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "fixserve predict printed \(line)")
            let entries = try #require(object["top"] as? [[String: Any]], "fixserve predict printed \(line)")
            let top = try entries.map { entry in
                (try #require(entry["label"] as? String, "\(entry)"), try #require(entry["probability"] as? Double, "\(entry)"))
            }
            let (status, body) = try Client.curl(["--http2-prior-knowledge", "--data-binary", "@\(file)",
                                                  "-H", "content-type: image/png", "\(server.base)/predictions/tiny"])
            try #require(status == 200, "\(file): status \(status), body \(body)")
            let served = try #require(try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Double], "\(file): \(body)")
            for (label, probability) in top {
                #expect(abs((served[label] ?? -1) - probability) < 1e-5, "\(file): \(label) served \(served[label] ?? -1), offline \(probability)")
            }
        }
    }

    @Test(Client.python.condition)
    func tritonClientInfersWithEveryInputForm() async throws {
        try Client.python.require()
        let server = try ServiceTestServer()
        defer { server.stop() }
        let expected = try OfflineExpectations(
            model: server.models.appendingPathComponent("tiny/1"), images: try ServiceTestServer.images(count: 12),
            directory: server.root.appendingPathComponent("triton"))
        let file = try expected.writeForClients(labels: ServiceTestServer.labels, pngOnly: true)
        let result = try Client.run("/usr/bin/env", ["python3", Client.scripts.appendingPathComponent("triton_client.py").path,
                                                     "127.0.0.1:\(server.port)", "tiny", file.path])
        #expect(result.status == 0, "triton_client.py: \(result.stderr)")
    }

    @Test(Client.python.condition)
    func sixtyFourConcurrentClientsEachGetTheirOwnAnswerInSharedBatches() async throws {
        try Client.python.require()
        let server = try ServiceTestServer()
        defer { server.stop() }
        let expected = try OfflineExpectations(
            model: server.models.appendingPathComponent("tiny/1"), images: try ServiceTestServer.images(count: 86),
            directory: server.root.appendingPathComponent("concurrent"))
        let file = try expected.writeForClients(labels: ServiceTestServer.labels, pngOnly: true)
        let result = try Client.run("/usr/bin/env", ["python3", Client.scripts.appendingPathComponent("concurrent_clients.py").path,
                                                     server.base, "tiny", file.path, "64"])
        #expect(result.status == 0, "concurrent_clients.py: \(result.stderr)")
        #expect(result.stdout.contains("ok 64"))
        let (_, metrics) = try Client.curl(["\(server.base)/metrics"])
        // Some batch held more than one input: fewer batches than inputs were run.
        let count = Self.sample(metrics, "fixserve_batch_size_count{model=\"tiny\"}")
        let sum = Self.sample(metrics, "fixserve_batch_size_sum{model=\"tiny\"}")
        #expect(sum == 64, "batched inputs: \(sum)")
        #expect(count < sum, "batches \(count) for \(sum) inputs: no batch larger than 1 formed")
    }

    static func sample(_ metrics: String, _ name: String) -> Double {
        for line in metrics.split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.dropFirst(name.count + 1)) ?? -1
        }
        return -1
    }
}
