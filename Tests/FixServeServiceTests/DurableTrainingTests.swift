import Datasets
import Foundation
import Glibc
import ModelStore
import Numerics
import Testing
@testable import FixServeService

/// Training jobs survive the process: a real `fixserve serve` killed with SIGKILL in the middle
/// of a job continues it from its checkpoint with the queue as it was; a damaged checkpoint
/// costs only its own job.
@Suite struct DurableTrainingTests {
    static let installed = BuiltinDataset.fashionMNIST.isInstalled()

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("fixserve-durable-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A quick job on Fashion-MNIST: the MLP, batches of 50, `limit` training images.
    static func request(model: String, epochs: Int, limit: Int, seed: Int = 3) -> [String: Any] {
        ["model": model, "backbone": "mlp", "epochs": epochs, "batch_size": 50, "training_limit": limit,
         "validation_fraction": 0, "learning_rate": 0.05, "augment": true, "seed": seed]
    }

    static func checkpoints(in state: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: state.appendingPathComponent("checkpoints").path)) ?? [])
            .filter { $0.hasSuffix(".safetensors") }
    }

    static func events(_ job: [String: Any]) -> [[String: Any]] { job["events"] as? [[String: Any]] ?? [] }

    static func date(_ job: [String: Any], _ key: String) throws -> Date {
        let text = try #require(job[key] as? String, "job has no \(key): \(job)")
        return try #require(ISO8601DateFormatter().date(from: text), "\(key) \(text) is not ISO 8601")
    }

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed (scripts/install-deps installs it)"),
          .timeLimit(.minutes(4)))
    func aKilledServerResumesTheRunningJobFromItsCheckpointAndKeepsTheQueue() throws {
        let root = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let models = root.appendingPathComponent("models"), state = root.appendingPathComponent("state")
        let log = root.appendingPathComponent("fixserve.log")
        let port = try FixserveProcess.freePort()

        let first = try FixserveProcess(models: models, state: state, port: port, log: log)
        defer { first.kill() }
        let running = try first.submit(Self.request(model: "resumed", epochs: 3, limit: 1500))
        let second = try first.submit(Self.request(model: "second", epochs: 1, limit: 100))
        let third = try first.submit(Self.request(model: "third", epochs: 1, limit: 100))
        // The first checkpoint is written at the end of epoch 1: the kill lands in epoch 2.
        let checkpoint = state.appendingPathComponent("checkpoints/\(running).safetensors")
        let deadline = Date().addingTimeInterval(90)
        while !FileManager.default.fileExists(atPath: checkpoint.path) && Date() < deadline { usleep(10_000) }
        first.kill()
        try #require(FileManager.default.fileExists(atPath: checkpoint.path), "no checkpoint after epoch 1 within 90 s")
        // The kill follows the file's appearance within milliseconds; an epoch takes far longer.
        let saved = try TrainingCheckpointFile(url: checkpoint).read()
        try #require(saved.epoch == 1 && saved.batch == 0, "the kill came after epoch \(saved.epoch), batch \(saved.batch)")
        let order = try JSONSerialization.jsonObject(with: Data(contentsOf: state.appendingPathComponent("queue.json"))) as? [String: Any]
        #expect(order?["queued"] as? [String] == [second, third])

        let restarted = try FixserveProcess(models: models, state: state, port: port, log: log)
        defer { restarted.stop() }
        // Nothing of the queue was lost or reordered; the interrupted job runs again first.
        let listed = try #require(try restarted.get("/v1/training/jobs")["jobs"] as? [[String: Any]])
        let states = Dictionary(uniqueKeysWithValues: listed.map { ($0["id"] as? String ?? "", $0["state"] as? String ?? "") })
        #expect(states == [running: "running", second: "queued", third: "queued"])

        let resumed = try restarted.waitForEnd(running)
        #expect(resumed["state"] as? String == "succeeded", "\(resumed)")
        #expect(resumed["result"] as? String == "resumed/1")
        let events = Self.events(resumed)
        #expect(events.contains { $0["message"] as? String == "resumed from epoch 1" && $0["epoch"] as? Int == 1 && $0["batch"] as? Int == 0 },
                "events: \(events)")
        let later = try restarted.waitForEnd(second), last = try restarted.waitForEnd(third)
        #expect(later["state"] as? String == "succeeded" && last["state"] as? String == "succeeded")
        #expect(try Self.date(later, "started") >= Self.date(resumed, "finished"))
        #expect(try Self.date(last, "started") >= Self.date(later, "finished"))
        #expect(Self.checkpoints(in: state).isEmpty, "checkpoints left: \(Self.checkpoints(in: state))")

        // The same request run without interruption ends with the same weights, bit for bit.
        let uninterrupted = try restarted.waitForEnd(try restarted.submit(Self.request(model: "uninterrupted", epochs: 3, limit: 1500)))
        #expect(uninterrupted["state"] as? String == "succeeded")
        #expect(Self.events(uninterrupted).isEmpty)
        let a = try SafetensorsFile(contentsOf: models.appendingPathComponent("resumed/1/model.safetensors")).tensors
        let b = try SafetensorsFile(contentsOf: models.appendingPathComponent("uninterrupted/1/model.safetensors")).tensors
        #expect(a.keys.sorted() == b.keys.sorted() && !a.isEmpty)
        for name in a.keys.sorted() {
            #expect(a[name]?.data.map(\.bitPattern) == b[name]?.data.map(\.bitPattern), "\(name) differs from the uninterrupted run")
        }
        #expect(Self.checkpoints(in: state).isEmpty)
    }

    /// A state directory with a job that was running (with the given checkpoint bytes) and one
    /// queued behind it.
    static func prepareInterruptedState(_ state: URL, checkpoint: Data?, queuedRequest: TrainingRequest) throws -> (running: String, queued: String) {
        let store = TrainingJobStore(stateDirectory: state)
        var interrupted = TrainingJob(id: UUID().uuidString.lowercased(), request: { var r = TrainingRequest(model: "interrupted"); r.backbone = "mlp"; return r }(),
                                      created: Date(timeIntervalSinceNow: -60))
        _ = try interrupted.start(at: Date(timeIntervalSinceNow: -50))
        let queued = TrainingJob(id: UUID().uuidString.lowercased(), request: queuedRequest, created: Date(timeIntervalSinceNow: -40))
        try store.write(interrupted)
        try store.write(queued)
        try store.writeQueue([queued.id])
        if let checkpoint { try AtomicFile.write(checkpoint, to: store.checkpoint(of: interrupted.id).url) }
        return (interrupted.id, queued.id)
    }

    @Test(.enabled(if: installed, "dataset-fashion-mnist is not installed"), arguments: ["truncated", "flipped byte"])
    func aDamagedCheckpointFailsItsJobAndTheQueuedJobStillRuns(_ damage: String) async throws {
        var good = try TrainingCheckpointFile.encode(TrainingCheckpointTests.sample())
        if damage == "truncated" { good = good.prefix(good.count - 9) } else { good[good.count - 5] ^= 0x10 }
        var quick = TrainingRequest(model: "after")
        quick.backbone = "mlp"
        quick.epochs = 1
        quick.batchSize = 50
        quick.trainingLimit = 100
        quick.validationFraction = 0
        var ids: (running: String, queued: String)?
        let server = try ServiceTestServer { models in
            ids = try Self.prepareInterruptedState(models.deletingLastPathComponent().appendingPathComponent("state"),
                                                   checkpoint: good, queuedRequest: quick)
        }
        defer { server.stop() }
        let (running, queued) = try #require(ids)
        let failed = try await Self.finish(server, running)
        #expect(failed.state == .failed)
        let error = failed.error ?? ""
        #expect(error.contains("checkpoint") && error.contains("corrupt") && error.contains("cannot resume"), "\(error)")
        #expect(failed.events?.first?.message.contains("continues from its last checkpoint") == true)
        let after = try await Self.finish(server, queued)
        #expect(after.state == .succeeded, "\(after.error ?? "")")
        #expect(after.result == "after/1")
        #expect(Self.checkpoints(in: server.root.appendingPathComponent("state")).isEmpty)
        // Over HTTP, the failed job says why.
        let (status, body) = try Client.curl(["\(server.base)/v1/training/jobs/\(running)"])
        #expect(status == 200 && body.contains("corrupt"))
    }

    static func finish(_ server: ServiceTestServer, _ id: String) async throws -> TrainingJob {
        let updates = try #require(server.server.service.trainer.updates(of: id))
        var last: TrainingJob?
        for await update in updates { last = update }
        return try #require(last)
    }

    // MARK: - The queue's own state, without training

    @Test func theSavedQueueOrderWinsOverSubmissionTimes() async throws {
        let state = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = TrainingJobStore(stateDirectory: state)
        let jobs = (0..<4).map { TrainingJob(id: "0000000\($0)-aaaa", request: TrainingRequest(model: "m\($0)"), created: Date(timeIntervalSinceNow: Double($0 - 10))) }
        for job in jobs { try store.write(job) }
        // Job 3's file was written, the order that followed it was not: it goes last.
        try store.writeQueue([jobs[2].id, jobs[0].id, jobs[1].id])
        let ran = RunOrder()
        let queue = TrainerQueue(stateDirectory: state) { job, _, _ in
            ran.append(job.request.model)
            return "\(job.request.model)/1"
        }
        for job in jobs { _ = try await Self.finish(queue, job.id) }
        #expect(ran.models == ["m2", "m0", "m1", "m3"])
        let written = try store.readQueue()
        #expect(written == [])
    }

    @Test func aJobRunningAtTheRestartRunsAgainFirstAndOneAskedToStopEndsCancelled() async throws {
        let state = try Self.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: state) }
        let store = TrainingJobStore(stateDirectory: state)
        var interrupted = TrainingJob(id: "00000001-aaaa", request: TrainingRequest(model: "interrupted"), created: Date(timeIntervalSinceNow: -9))
        _ = try interrupted.start()
        var stopping = TrainingJob(id: "00000002-aaaa", request: TrainingRequest(model: "stopping"), created: Date(timeIntervalSinceNow: -8))
        _ = try stopping.start(at: Date(timeIntervalSinceNow: -1))
        _ = try stopping.cancel()
        let waiting = TrainingJob(id: "00000003-aaaa", request: TrainingRequest(model: "waiting"), created: Date(timeIntervalSinceNow: -7))
        for job in [interrupted, stopping, waiting] { try store.write(job) }
        try store.writeQueue([waiting.id])
        // A checkpoint of a job that is not running is left from a crash: the start removes it.
        try AtomicFile.write(Data("stale".utf8), to: store.checkpoint(of: waiting.id).url)

        let ran = RunOrder()
        let queue = TrainerQueue(stateDirectory: state) { job, context in
            ran.append(job.request.model)
            #expect(context.checkpoint?.url == store.checkpoint(of: job.id).url)
            return "\(job.request.model)/1"
        }
        let first = try await Self.finish(queue, interrupted.id)
        #expect(first.state == .succeeded)
        #expect(first.events?.map(\.message) == ["the server restarted before the job's first checkpoint; it starts again from the beginning"])
        #expect(try await Self.finish(queue, stopping.id).state == .cancelled)
        #expect(try await Self.finish(queue, waiting.id).state == .succeeded)
        #expect(ran.models == ["interrupted", "waiting"])
        #expect(Self.checkpoints(in: state).isEmpty)
    }

    @Test func jobsRunOnAThreadTenNiceLevelsBelowTheCaller() async throws {
        let caller = getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)
        let seen = RunOrder()
        let queue = TrainerQueue(stateDirectory: nil) { job, _, _ in
            seen.append(String(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0)))
            return "\(job.request.model)/1"
        }
        let job = try queue.submit(TrainingRequest(model: "nice"))
        _ = try await Self.finish(queue, job.id)
        #expect(seen.models == [String(min(19, caller + 10))])
        // Linux keeps a nice value per thread: this one is unchanged.
        #expect(getpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0) == caller)
    }

    static func finish(_ queue: TrainerQueue, _ id: String) async throws -> TrainingJob {
        let updates = try #require(queue.updates(of: id))
        var last: TrainingJob?
        for await update in updates { last = update }
        return try #require(last)
    }
}

/// What the runner saw, from its thread.
final class RunOrder: @unchecked Sendable {
    private let lock = NSLock()
    private var entries: [String] = []
    func append(_ entry: String) { lock.withLock { entries.append(entry) } }
    var models: [String] { lock.withLock { entries } }
}
