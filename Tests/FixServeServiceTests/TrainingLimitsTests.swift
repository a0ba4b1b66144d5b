import FixServeService
import Foundation
import Testing

/// Limits on training through the real server: a full queue and a key's full share answer 429
/// with Retry-After, a job larger than allowed 413, each saying which limit and what was asked.
@Suite(.serialized) struct TrainingLimitsTests {
    static let keys = ["alice-key-0123456789abcdef", "bobby-key-0123456789abcdef", "carol-key-0123456789abcdef"]

    static func server(maxQueued: Int, perKey: Int, maxSamplePasses: Int = TrainingLimits.defaultMaxSamplePasses) throws -> ServiceTestServer {
        let keys = try APIKeys.parse(zip(Self.keys, ["alice", "bobby", "carol"]).map { "admin \($0) \($1)" }.joined(separator: "\n"), source: "test")
        return try ServiceTestServer(accessPolicy: AccessPolicy(keys: keys), maxQueuedTrainingJobs: maxQueued,
                                     trainingLimits: TrainingLimits(maxQueuedPerOwner: perKey, maxSamplePasses: maxSamplePasses))
    }

    /// POSTs a training request with `key`; returns status, headers and body.
    static func submit(_ json: String, key: String, to server: ServiceTestServer) throws -> (status: Int, headers: String, body: String) {
        let file = server.root.appendingPathComponent("job-\(UUID().uuidString).json")
        try Data(json.utf8).write(to: file)
        return try AuthorizationTests.call("POST", "\(server.base)/v1/training/jobs", key: key, body: ("application/json", file.path))
    }

    static func cancelAll(_ server: ServiceTestServer) {
        for job in server.server.service.trainer.allJobs() where !job.state.isFinal { _ = try? server.server.service.trainer.cancel(job.id) }
    }

    /// A job that trains for minutes keeps the worker busy, so the ones after it wait.
    static let longJob = #"{"model":"long","epochs":10}"#
    static let smallJob = #"{"model":"small","backbone":"mlp","epochs":1,"training_limit":64}"#

    @Test func aKeysFullShareAndAFullQueueAnswer429WithRetryAfter() throws {
        let server = try Self.server(maxQueued: 2, perKey: 1)
        defer { Self.cancelAll(server); server.stop() }
        let running = try Self.submit(Self.longJob, key: Self.keys[0], to: server)
        #expect(running.status == 202 && running.body.contains(#""owner":"alice""#), "\(running.body)")
        // The long job runs; alice's next one waits, and is her share.
        #expect(try Self.submit(Self.smallJob, key: Self.keys[0], to: server).status == 202)
        let share = try Self.submit(Self.smallJob, key: Self.keys[0], to: server)
        #expect(share.status == 429, "\(share.body)")
        #expect(share.body.contains("the key alice has 1 training jobs waiting") && share.body.contains("--max-queued-jobs-per-key"), "\(share.body)")
        #expect(share.headers.lowercased().contains("retry-after: 60"), "\(share.headers)")
        // Bobby has a share of his own, which fills the queue for everyone.
        #expect(try Self.submit(Self.smallJob, key: Self.keys[1], to: server).status == 202)
        let full = try Self.submit(Self.smallJob, key: Self.keys[2], to: server)
        #expect(full.status == 429, "\(full.body)")
        #expect(full.body.contains("the training queue is full (2 jobs waiting to start)"), "\(full.body)")
        #expect(full.headers.lowercased().contains("retry-after:"), "\(full.headers)")
        // The owners show in the job list; cancelling alice's waiting job frees her share.
        let list = try AuthorizationTests.call("GET", "\(server.base)/v1/training/jobs", key: Self.keys[2])
        let jobs = try #require((try JSONSerialization.jsonObject(with: Data(list.body.utf8)) as? [String: Any])?["jobs"] as? [[String: Any]])
        #expect(jobs.compactMap { $0["owner"] as? String } == ["alice", "alice", "bobby"], "\(list.body)")
        let waiting = try #require(jobs.dropFirst().first?["id"] as? String)
        #expect(try AuthorizationTests.call("DELETE", "\(server.base)/v1/training/jobs/\(waiting)", key: Self.keys[0]).status == 200)
        #expect(try Self.submit(Self.smallJob, key: Self.keys[0], to: server).status == 202)
        let metrics = try Client.curl(["\(server.base)/metrics"]).body
        #expect(metrics.contains(#"fixserve_requests_total{route="/v1/training/jobs",status="429"} 2"#), "\(metrics.prefix(2000))")
    }

    @Test func aJobLargerThanTheLimitAnswers413NamingTheLimitAndTheAsk() throws {
        let server = try Self.server(maxQueued: 4, perKey: 4)
        defer { Self.cancelAll(server); server.stop() }
        let over = try Self.submit(#"{"model":"big","epochs":11}"#, key: Self.keys[0], to: server)
        #expect(over.status == 413, "\(over.body)")
        #expect(over.body.contains("11 epochs × 60000 training samples = 660000 sample passes")
                    && over.body.contains("at most 600000") && over.body.contains("--max-training-samples"), "\(over.body)")
        let limited = try Self.submit(#"{"model":"big","epochs":500,"training_limit":1201}"#, key: Self.keys[0], to: server)
        #expect(limited.status == 413 && limited.body.contains("500 epochs × 1201 training samples = 600500"), "\(limited.body)")
        let folder = try Self.submit(#"{"model":"big","dataset":"folder:pictures","epochs":4}"#, key: Self.keys[0], to: server)
        #expect(folder.status == 413 && folder.body.contains("give training_limit (at most 150000 for 4 epochs)"), "\(folder.body)")
        #expect(server.server.service.trainer.allJobs().isEmpty)
        // Exactly the limit is allowed.
        #expect(try Self.submit(#"{"model":"small","backbone":"mlp","epochs":10,"training_limit":60000}"#, key: Self.keys[0], to: server).status == 202)
    }

    @Test func theSizeCountsTheSamplesTheJobCanSee() throws {
        var request = TrainingRequest(model: "m")
        request.epochs = 10
        try TrainingLimits().checkSize(of: request)
        // A training_limit beyond Fashion-MNIST's size trains on its 60,000 images.
        request.trainingLimit = 1_000_000
        try TrainingLimits().checkSize(of: request)
        request.epochs = 11
        #expect(throws: ServiceError.self) { try TrainingLimits().checkSize(of: request) }
        try TrainingLimits(maxSamplePasses: 0).checkSize(of: request)
        request.dataset = "folder:x"
        request.trainingLimit = Int.max
        do {
            try TrainingLimits().checkSize(of: request)
            Issue.record("an overflowing size was accepted")
        } catch let error as ServiceError {
            #expect(error.status == 413 && error.message.contains("more than"), "\(error)")
        }
    }
}
