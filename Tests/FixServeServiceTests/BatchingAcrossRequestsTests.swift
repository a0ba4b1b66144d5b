import Foundation
import Testing
@testable import FixServeService

/// Batching must not change results across requests either: 64 separate requests in flight at
/// once land in shared batches, and each gets its own input's offline answer.
@Suite struct BatchingAcrossRequestsTests {
    /// The engine computes a sample's logits the same way whatever its batch (InferenceEngine's
    /// contract, `batchingDoesNotChangeLogits`); 1e-4 of the largest logit is the tolerance its
    /// tests allow against the layer-by-layer network, and far below the distance between the
    /// answers of different images, which the test also checks.
    static let tolerance: Float = 1e-4

    @Test func sixtyFourSeparateRequestsShareBatchesAndEachGetsItsOfflineAnswer() throws {
        // A batch waits up to 5 s for more inputs, or runs as soon as 64 are queued: the 64
        // requests, sent together, share batches however the threads are scheduled.
        let server = try ServiceTestServer(batching: .init(maxBatchSize: 64, maxQueueDelayMicroseconds: 5_000_000, maxQueueSize: 1024))
        defer { server.stop() }
        let expected = try OfflineExpectations(
            model: server.models.appendingPathComponent("tiny/1"), images: try ServiceTestServer.images(count: 64, seed: 17),
            directory: server.root.appendingPathComponent("across"))
        let directory = expected.directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // One curl process, 64 HTTP/2 transfers at once, each on its own connection: curl 7.88
        // (Debian 12) fails the h2c transfers it multiplexes in parallel mode with "Error in the
        // HTTP2 framing layer", against nghttpd as well.
        var arguments = ["-s", "-S", "--parallel", "--parallel-immediate", "--parallel-max", "64"]
        for (i, entry) in expected.entries.enumerated() {
            let body = #"{"id":"r\#(i)","inputs":[{"name":"input","shape":[1,1,28,28],"datatype":"FP32","data":[\#(entry.row.map { "\($0)" }.joined(separator: ","))]}],"outputs":[{"name":"logits"}]}"#
            let file = directory.appendingPathComponent("request\(i).json")
            try Data(body.utf8).write(to: file)
            if i > 0 { arguments.append("--next") }
            arguments += ["--http2-prior-knowledge", "--max-time", "60", "-X", "POST", "-H", "content-type: application/json",
                          "--data-binary", "@\(file.path)", "-o", directory.appendingPathComponent("response\(i).json").path,
                          "-w", "\(i) %{http_code}\\n", "\(server.base)/v2/models/tiny/infer"]
        }
        let run = try Client.run("/usr/bin/curl", arguments, timeout: 90)
        try #require(run.status == 0, "curl: \(run.stderr)")
        let statuses = Dictionary(uniqueKeysWithValues: run.stdout.split(separator: "\n").compactMap { line -> (Int, Int)? in
            let fields = line.split(separator: " ").compactMap { Int($0) }
            return fields.count == 2 ? (fields[0], fields[1]) : nil
        })
        var served: [[Float]] = []
        for i in expected.entries.indices {
            let text = (try? String(contentsOf: directory.appendingPathComponent("response\(i).json"), encoding: .utf8)) ?? ""
            try #require(statuses[i] == 200, "request \(i): status \(statuses[i].map(String.init) ?? "none"), body \(text)")
            let object = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], "request \(i): \(text)")
            #expect(object["id"] as? String == "r\(i)")
            let data = try #require((object["outputs"] as? [[String: Any]])?.first?["data"] as? [Double], "request \(i): \(text)")
            try #require(data.count == 10, "request \(i): \(data.count) logits")
            served.append(data.map { Float($0) })
        }
        func distance(_ a: [Float], _ b: [Float]) -> Float { zip(a, b).map { abs($0 - $1) }.max() ?? .infinity }
        for (i, entry) in expected.entries.enumerated() {
            let scale = max(1, entry.logits.map(abs).max() ?? 1)
            let own = distance(served[i], entry.logits)
            #expect(own <= Self.tolerance * scale, "request \(i): served \(served[i]), offline \(entry.logits)")
            // Its own input's answer, not a neighbour's: every other image's answer is farther.
            let nearestOther = expected.entries.indices.filter { expected.entries[$0].logits != entry.logits }
                .map { distance(served[i], expected.entries[$0].logits) }.min() ?? .infinity
            #expect(nearestOther > Self.tolerance * scale, "request \(i): another image's answer is as close as its own")
        }
        let (_, metrics) = try Client.curl(["\(server.base)/metrics"])
        let batches = RealClientTests.sample(metrics, "fixserve_batch_size_count{model=\"tiny\"}")
        let inputs = RealClientTests.sample(metrics, "fixserve_batch_size_sum{model=\"tiny\"}")
        #expect(inputs == 64, "batched inputs: \(inputs)")
        #expect(batches >= 1 && batches < inputs, "\(batches) batches for \(inputs) inputs: no batch held more than one request")
        #expect(RealClientTests.sample(metrics, "fixserve_requests_total{route=\"/v2/models/{model}/infer\",status=\"200\"}") == 64)
    }
}
