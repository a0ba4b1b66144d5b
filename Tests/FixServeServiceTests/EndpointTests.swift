import Foundation
import Testing
@testable import FixServeService

/// Model info, health, metrics, the repository extension, batching consistency and training
/// jobs, all through curl against the real server.
@Suite(.serialized) struct EndpointTests {
    private func getJSON(_ url: String) throws -> (Int, [String: Any]) {
        let (status, body) = try Client.curl(["--http2-prior-knowledge", url])
        return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:])
    }

    private func post(_ url: String, json: String) throws -> (Int, [String: Any]) {
        // Bodies go through a file: a batch of 64 images is too long for an argument list.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("body-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, body) = try Client.curl(["--http2-prior-knowledge", "-X", "POST", "-H", "content-type: application/json",
                                              "--data-binary", "@\(file.path)", url])
        return (status, (try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]) ?? [:])
    }

    @Test func healthMetadataAndModelInfo() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        #expect(try getJSON("\(server.base)/v2/health/ready").0 == 200)
        let (_, metadata) = try getJSON("\(server.base)/v2")
        #expect(metadata["name"] as? String == "fixserve")
        let (status, info) = try getJSON("\(server.base)/v1/models/tiny")
        #expect(status == 200)
        let head = info["head"] as? [String: Any] ?? [:]
        #expect(head["type"] as? String == "hadamard")
        #expect(head["features"] as? Int == 16 && head["classes"] as? Int == 10)
        // N = 16 is a power of two: the Hadamard rows are exactly orthogonal.
        #expect(head["coherence"] as? Double == 0)
        #expect(head["stored_bytes"] as? Int == 11 * 4)
        #expect(head["learned_head_bytes"] as? Int == (16 * 10 + 10) * 4)
        let parameters = info["parameters"] as? [String: Any] ?? [:]
        #expect(parameters["head"] as? Int == 11)
        #expect((info["labels"] as? [String])?.count == 10)
        #expect((info["model_card"] as? [String: Any])?["dataset"] as? String == "synthetic")
        let (listStatus, list) = try getJSON("\(server.base)/v1/models")
        #expect(listStatus == 200 && (list["models"] as? [[String: Any]])?.first?["state"] as? String == "READY")
        #expect(try getJSON("\(server.base)/v1/models/nope").0 == 404)
        let (_, ping) = try getJSON("\(server.base)/ping")
        #expect(ping["status"] as? String == "Healthy")
    }

    @Test func sameInputGivesTheSameAnswerAloneAndInsideABatchOf64() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        var generator = SeededGeneratorForTests(seed: 3)
        let rows = (0..<64).map { _ in (0..<784).map { _ in Float(generator.next() % 2000) / 1000 - 1 } }
        func infer(_ batch: [[Float]]) throws -> [[Double]] {
            let body = "{\"inputs\":[{\"name\":\"input\",\"shape\":[\(batch.count),1,28,28],\"datatype\":\"FP32\",\"data\":[\(batch.flatMap { $0 }.map { "\($0)" }.joined(separator: ","))]}],\"outputs\":[{\"name\":\"logits\"}]}"
            let (status, json) = try post("\(server.base)/v2/models/tiny/infer", json: body)
            try #require(status == 200, "infer of \(batch.count) rows: \(status) \(json)")
            let data = try #require((json["outputs"] as? [[String: Any]])?.first?["data"] as? [Double], "\(json)")
            try #require(data.count == batch.count * 10, "\(data.count) logits for \(batch.count) rows")
            return (0..<batch.count).map { Array(data[$0 * 10..<($0 + 1) * 10]) }
        }
        let together = try infer(rows)
        for i in [0, 17, 63] {
            let alone = try infer([rows[i]])
            #expect(alone[0] == together[i], "row \(i) alone \(alone[0]) vs in the batch \(together[i])")
        }
    }

    @Test func repositoryExtensionLoadsUnloadsAndPicksUpNewVersions() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        #expect(try post("\(server.base)/v2/repository/models/tiny/unload", json: "{}").0 == 200)
        #expect(try getJSON("\(server.base)/v2/models/tiny/ready").0 == 503)
        #expect(try post("\(server.base)/v2/repository/models/tiny/load", json: "{}").0 == 200)
        #expect(try getJSON("\(server.base)/v2/models/tiny/ready").0 == 200)
        // A new version copied into the repository is picked up by the poll (every 0.2 s here).
        try ServiceTestServer.writeModel(named: "tiny", into: server.models, seed: 6)
        var served = 0
        for _ in 0..<100 where served != 2 {
            try await Task.sleep(for: .milliseconds(100))
            let (_, info) = try getJSON("\(server.base)/v1/models/tiny")
            served = info["served_version"] as? Int ?? 0
        }
        #expect(served == 2)
        let (_, index) = try Client.curl(["--http2-prior-knowledge", "-X", "POST", "\(server.base)/v2/repository/index"])
        #expect(index.contains("\"version\":\"2\""))
    }

    @Test func hotSwapUnderConcurrentInferenceLosesNoRequest() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        let image = server.root.appendingPathComponent("swap.png")
        try Data(try ServiceTestServer.images(count: 1)[0].bytes).write(to: image)
        // h2load keeps 8 connections busy while two new versions are written and swapped in.
        let load = Task.detached {
            try Client.run("/usr/bin/h2load", ["-n", "3000", "-c", "8", "-m", "2", "-d", image.path, "-H", "content-type: image/png",
                                               "\(server.base)/predictions/tiny"], timeout: 120)
        }
        for seed in [21, 22] as [UInt64] {
            try await Task.sleep(for: .milliseconds(150))
            try ServiceTestServer.writeModel(named: "tiny", into: server.models, seed: seed)
        }
        let result = try await load.value
        #expect(result.stdout.contains("3000 succeeded, 0 failed, 0 errored"), "h2load: \(result.stdout.suffix(600))")
        #expect(result.stdout.contains("status codes: 3000 2xx"), "h2load: \(result.stdout.suffix(600))")
        var served = 0
        for _ in 0..<50 where served != 3 {
            try await Task.sleep(for: .milliseconds(100))
            served = try getJSON("\(server.base)/v1/models/tiny").1["served_version"] as? Int ?? 0
        }
        #expect(served == 3)
    }

    @Test func metricsExposeRequestsLatencyAndBatches() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        let body = #"{"inputs":[{"name":"input","shape":[1,28,28],"datatype":"UINT8","data":[\#((0..<784).map { _ in "7" }.joined(separator: ","))]}]}"#
        #expect(try post("\(server.base)/v2/models/tiny/infer", json: body).0 == 200)
        let (status, text) = try Client.curl(["\(server.base)/metrics"])
        #expect(status == 200)
        for needle in ["fixserve_requests_total{route=\"/v2/models/{model}/infer\",status=\"200\"} 1",
                       "fixserve_request_duration_seconds_bucket", "fixserve_queue_duration_seconds_count{model=\"tiny\"} 1",
                       "fixserve_compute_duration_seconds_count{model=\"tiny\"} 1", "fixserve_batch_size_sum{model=\"tiny\"} 1",
                       "fixserve_inference_count{model=\"tiny\",version=\"1\"} 1", "fixserve_requests_in_flight",
                       "fixserve_queue_depth{model=\"tiny\",version=\"1\"} 0", "fixserve_process_resident_memory_bytes"] {
            #expect(text.contains(needle), "missing \(needle)")
        }
    }

    @Test func trainingJobOverRESTStreamsProgressAndServesTheNewModel() async throws {
        let server = try ServiceTestServer()
        defer { server.stop() }
        let request = #"{"model":"trained","dataset":"fashion-mnist","backbone":"mlp","head":"orthonormal","epochs":1,"batch_size":64,"training_limit":600,"validation_fraction":0.1,"seed":4}"#
        let (status, job) = try post("\(server.base)/v1/training/jobs", json: request)
        try #require(status == 202, "submit: \(job)")
        let id = try #require(job["id"] as? String)
        // Follow the server-sent events until the job ends.
        let events = try Client.run("/usr/bin/curl", ["-s", "-N", "--http2-prior-knowledge", "--max-time", "120",
                                                      "\(server.base)/v1/training/jobs/\(id)/events"], timeout: 130)
        #expect(events.stdout.contains("event: job"))
        #expect(events.stdout.contains("\"state\":\"succeeded\""), "events: \(events.stdout.suffix(500))")
        let (_, finished) = try getJSON("\(server.base)/v1/training/jobs/\(id)")
        #expect(finished["state"] as? String == "succeeded")
        #expect(finished["result"] as? String == "trained/1")
        // The poll picks the stored model up; it answers predictions.
        var ready = 0
        for _ in 0..<100 where ready != 200 {
            try await Task.sleep(for: .milliseconds(100))
            ready = try getJSON("\(server.base)/v2/models/trained/ready").0
        }
        #expect(ready == 200)
        let image = server.root.appendingPathComponent("trained.png")
        try Data(try ServiceTestServer.images(count: 1)[0].bytes).write(to: image)
        let (predicted, answer) = try Client.curl(["--http2-prior-knowledge", "--data-binary", "@\(image.path)",
                                                   "-H", "content-type: image/png", "\(server.base)/predictions/trained"])
        #expect(predicted == 200, "\(answer)")
        // Cancelling a finished job is a conflict, an unknown one is not found.
        #expect(try Client.curl(["--http2-prior-knowledge", "-X", "DELETE", "\(server.base)/v1/training/jobs/\(id)"]).status == 409)
        #expect(try Client.curl(["--http2-prior-knowledge", "-X", "DELETE", "\(server.base)/v1/training/jobs/none"]).status == 404)
    }
}

extension EndpointTests {
    /// Jobs a previous server left in the state directory, written with numeric dates as older
    /// versions did: with room for one finished job in memory, the list holds the newest, and
    /// the older one is still answered by id from its file.
    @Test func finishedJobsBeyondTheLimitAreAnsweredFromTheStateDirectory() throws {
        var jobs: [TrainingJob] = []
        for (i, name) in ["older", "newer"].enumerated() {
            var job = TrainingJob(id: UUID().uuidString.lowercased(), request: TrainingRequest(model: name),
                                  created: Date(timeIntervalSinceReferenceDate: 800_000_000 + Double(i) * 100))
            _ = try job.start(at: job.created)
            _ = job.finish(model: "\(name)/1", error: nil, at: job.created.addingTimeInterval(50))
            jobs.append(job)
        }
        let server = try ServiceTestServer(maxFinishedTrainingJobs: 1) { models in
            let folder = models.deletingLastPathComponent().appendingPathComponent("state/jobs")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            for job in jobs { try JSONEncoder().encode(job).write(to: folder.appendingPathComponent("\(job.id).json")) }
        }
        defer { server.stop() }
        let (listStatus, list) = try getJSON("\(server.base)/v1/training/jobs")
        #expect(listStatus == 200)
        #expect((list["jobs"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [jobs[1].id])
        let (status, older) = try getJSON("\(server.base)/v1/training/jobs/\(jobs[0].id)")
        #expect(status == 200 && older["result"] as? String == "older/1", "\(older)")
        #expect(older["created"] as? String == "2026-05-09T06:13:20Z", "\(older)")
        let (missing, body) = try getJSON("\(server.base)/v1/training/jobs/\(UUID().uuidString.lowercased())")
        #expect(missing == 404 && (body["error"] as? String ?? "").contains("state directory"), "\(body)")
        #expect(try Client.curl(["--http2-prior-knowledge", "-X", "DELETE", "\(server.base)/v1/training/jobs/\(jobs[0].id)"]).status == 409)
    }
}

/// A tiny deterministic generator for test data.
struct SeededGeneratorForTests {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }
}
