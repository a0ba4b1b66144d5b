import Foundation
import Logging
import Testing
@testable import FixServeService

@Suite struct TrainingJobTests {
    private func job() -> TrainingJob { TrainingJob(id: "j", request: TrainingRequest(model: "m")) }

    @Test func queuedJobCancelsAtOnce() throws {
        var j = job()
        #expect(try j.cancel() == .publish)
        #expect(j.state == .cancelled)
        #expect(throws: TrainingJob.Transition.self) { try j.start() }
    }

    @Test func runningJobIsAskedToStopThenEndsCancelled() throws {
        var j = job()
        #expect(try j.start() == .startTraining)
        #expect(try j.cancel() == .signalStop)
        #expect(try j.cancel() == .none)
        #expect(j.finish(model: nil, error: "stopped") == .publish)
        #expect(j.state == .cancelled)
        #expect(j.error == nil)
    }

    @Test func runningJobSucceedsOrFails() throws {
        var ok = job()
        _ = try ok.start()
        _ = ok.finish(model: "m/3", error: nil)
        #expect(ok.state == .succeeded && ok.result == "m/3")
        #expect(throws: TrainingJob.Transition.self) { try ok.cancel() }
        var bad = job()
        _ = try bad.start()
        _ = bad.finish(model: nil, error: "diverged")
        #expect(bad.state == .failed && bad.error == "diverged")
    }

    @Test func requestValidationNamesTheField() {
        var r = TrainingRequest(model: "../etc")
        #expect(throws: ServiceError.self) { try r.validate() }
        r.model = "ok"
        r.epochs = 0
        do { try r.validate(); Issue.record("epochs 0 accepted") } catch let e as ServiceError {
            #expect(e.status == 400 && e.message.contains("epochs"))
        } catch { Issue.record("\(error)") }
        r.epochs = 2
        r.backbone = "vgg"
        #expect(throws: ServiceError.self) { try r.validate() }
    }

    @Test func featureWidthAndProjectionAreChecked() throws {
        func refusal(_ change: (inout TrainingRequest) -> Void) -> String? {
            var r = TrainingRequest(model: "ok")
            change(&r)
            do { try r.validate(); return nil } catch let e as ServiceError { return e.status == 400 ? e.message : "status \(e.status)" }
            catch { return "\(error)" }
        }
        #expect(refusal { $0.features = 64; $0.projection = 256; $0.dataset = "fashion-mnist-pairs" } == nil)
        #expect(refusal { $0.backbone = "resnet-8"; $0.features = 64 }?.contains("resnet-8 backbone's width is fixed") == true)
        #expect(refusal { $0.features = 0 }?.contains("features must be 1…8192, got 0") == true)
        #expect(refusal { $0.projection = 9000 }?.contains("projection must be 1…8192, got 9000") == true)
        #expect(refusal { $0.dataset = "mnist" }?.contains("fashion-mnist-pairs") == true)
        let decoded = try JSONDecoder().decode(TrainingRequest.self, from: Data(#"{"model":"m","features":32,"projection":100}"#.utf8))
        #expect(decoded.features == 32 && decoded.projection == 100)
        let encoded = try JSONDecoder().decode(TrainingRequest.self, from: JSONEncoder().encode(decoded))
        #expect(encoded == decoded)
    }
}

@Suite struct TrainerQueueTests {
    @Test func runsJobsInOrderAndPersistsThem() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID())")
        defer { try? FileManager.default.removeItem(at: dir) }
        let queue = TrainerQueue(stateDirectory: dir) { job, report, _ in
            report(.init(epoch: 1, epochs: 1, samples: 10, samplesPerEpoch: 10, trainLoss: 0.5, trainAccuracy: 0.9,
                         testAccuracy: nil, samplesPerSecond: 100, etaSeconds: 0))
            return "\(job.request.model)/1"
        }
        let first = try queue.submit(TrainingRequest(model: "a"))
        let updates = try #require(queue.updates(of: first.id))
        var states: [TrainingJob.State] = []
        for await update in updates { states.append(update.state) }
        #expect(states.last == .succeeded)
        #expect(queue.job(first.id)?.result == "a/1")
        let reopened = TrainerQueue(stateDirectory: dir) { _, _, _ in "x/1" }
        #expect(reopened.job(first.id)?.state == .succeeded)
    }

    @Test func cancelStopsARunningJob() async throws {
        // The runner waits (at most a minute) for the stop request, as a training loop would.
        let queue = TrainerQueue(stateDirectory: nil) { _, _, shouldStop in
            for _ in 0..<6000 where !shouldStop() { Thread.sleep(forTimeInterval: 0.01) }
            struct Stopped: Error {}
            throw Stopped()
        }
        let job = try queue.submit(TrainingRequest(model: "a"))
        let updates = try #require(queue.updates(of: job.id))
        for _ in 0..<3000 where queue.job(job.id)?.state != .running { try await Task.sleep(for: .milliseconds(10)) }
        #expect(queue.job(job.id)?.state == .running)
        _ = try queue.cancel(job.id)
        var last: TrainingJob?
        for await update in updates { last = update }
        #expect(last?.state == .cancelled)
        do { _ = try queue.cancel("nope"); Issue.record("unknown job cancelled") } catch let e as ServiceError {
            #expect(e.status == 404)
        }
    }
}

@Suite struct TrainerQueueStateTests {
    private func temporaryDirectory() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("trainer-\(UUID())")
    }

    private func finish(_ queue: TrainerQueue, _ job: TrainingJob) async throws -> TrainingJob {
        let updates = try #require(queue.updates(of: job.id))
        var last = job
        for await update in updates { last = update }
        return last
    }

    /// A state directory that cannot take the job file (`jobs` is a plain file, which stops
    /// even root): the job says so, the log says why, the counter counts it; once the directory
    /// can be written again, the next state change writes the file and clears the mark.
    @Test func aJobFileThatCannotBeWrittenShowsInTheJobTheLogAndTheCount() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let blocker = dir.appendingPathComponent("jobs")
        try Data("not a folder".utf8).write(to: blocker)
        let failures = ManagedCounter()
        let log = RecordedLog()
        let release = ManagedCounter()
        let queue = TrainerQueue(stateDirectory: dir, logger: Logger(label: "trainer-test") { _ in log },
                                 onStateFileFailure: { failures.add(1) }) { job, _, _ in
            for _ in 0..<3000 where release.value == 0 { Thread.sleep(forTimeInterval: 0.01) }
            return "\(job.request.model)/1"
        }
        let submitted = try queue.submit(TrainingRequest(model: "a"))
        let mark = try #require(submitted.stateFileError, "the failed write is not shown in the job")
        #expect(mark.contains(blocker.path), "\(mark)")
        #expect(failures.value >= 1)
        #expect(log.entries.contains { $0.level == .error && $0.text.contains(submitted.id) && $0.text.contains("cause") },
                "log: \(log.entries.map(\.text))")
        try FileManager.default.removeItem(at: blocker)
        release.add(1)
        let finished = try await finish(queue, submitted)
        #expect(finished.state == .succeeded)
        #expect(finished.stateFileError == nil)
        #expect(queue.job(submitted.id)?.stateFileError == nil)
        #expect(TrainerQueue(stateDirectory: dir) { _, _, _ in "x/1" }.job(submitted.id)?.state == .succeeded)
    }

    @Test func keepsTheLastFinishedJobsInMemoryAndOlderOnesOnDisk() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let queue = TrainerQueue(maxFinished: 2, stateDirectory: dir) { job, _, _ in "\(job.request.model)/1" }
        var ids: [String] = []
        for name in ["a", "b", "c", "d", "e"] {
            let job = try queue.submit(TrainingRequest(model: name))
            #expect(try await finish(queue, job).state == .succeeded)
            ids.append(job.id)
        }
        #expect(queue.allJobs().map(\.id) == Array(ids.suffix(2)))
        // The first job left memory but is still answered from its file.
        let first = try #require(queue.job(ids[0]), "an evicted job is not read back from disk")
        #expect(first.state == .succeeded && first.result == "a/1")
        do { _ = try queue.cancel(ids[0]); Issue.record("a finished job was cancelled") } catch let e as ServiceError {
            #expect(e.status == 409, "\(e)")
        }
        var replayed: [TrainingJob] = []
        for await update in try #require(queue.updates(of: ids[0])) { replayed.append(update) }
        #expect(replayed.map(\.state) == [.succeeded])
        #expect(queue.job("0123-not-there") == nil)
        #expect(queue.job("../../etc/passwd") == nil)
        // A restart keeps the last `maxFinished` of them in memory.
        let reopened = TrainerQueue(maxFinished: 3, stateDirectory: dir) { _, _, _ in "x/1" }
        #expect(reopened.allJobs().map(\.id) == Array(ids.suffix(3)))
        #expect(reopened.job(ids[0])?.result == "a/1")
    }

    @Test func withoutAStateDirectoryOldFinishedJobsAreGoneAndThe404SaysWhy() async throws {
        let queue = TrainerQueue(maxFinished: 1, stateDirectory: nil) { job, _, _ in "\(job.request.model)/1" }
        let first = try queue.submit(TrainingRequest(model: "a"))
        _ = try await finish(queue, first)
        let second = try queue.submit(TrainingRequest(model: "b"))
        _ = try await finish(queue, second)
        #expect(queue.job(first.id) == nil)
        #expect(queue.job(second.id)?.state == .succeeded)
        #expect(queue.notFoundMessage(first.id).contains("no state directory"))
        do { _ = try queue.cancel(first.id); Issue.record("an unknown job was cancelled") } catch let e as ServiceError {
            #expect(e.status == 404 && e.message.contains("last 1 finished"), "\(e)")
        }
    }

    /// Dates are ISO 8601 strings in the file; a file written before that (dates as seconds
    /// since 2001, `Date`'s own Codable form) still loads.
    @Test func jobFilesHoldISO8601DatesAndOldNumericFilesStillLoad() async throws {
        let dir = temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let queue = TrainerQueue(stateDirectory: dir) { job, _, _ in "\(job.request.model)/1" }
        let job = try await finish(queue, try queue.submit(TrainingRequest(model: "a")))
        let text = try String(contentsOf: dir.appendingPathComponent("jobs/\(job.id).json"), encoding: .utf8)
        let iso = try Regex(#""created" : "([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z)""#)
        #expect(text.firstMatch(of: iso) != nil, "created is not an ISO 8601 string:\n\(text)")
        #expect(text.contains("\"finished\" : \"2"))

        var old = TrainingJob(id: UUID().uuidString.lowercased(), request: TrainingRequest(model: "old"),
                              created: Date(timeIntervalSinceReferenceDate: 800_000_000.25))
        _ = try old.start(at: Date(timeIntervalSinceReferenceDate: 800_000_001))
        _ = old.finish(model: "old/1", error: nil, at: Date(timeIntervalSinceReferenceDate: 800_000_060.5))
        let legacy = JSONEncoder()
        legacy.outputFormatting = [.sortedKeys, .prettyPrinted]
        let oldData = try legacy.encode(old)
        #expect(String(decoding: oldData, as: UTF8.self).contains("\"created\" : 800000000.25"))
        try oldData.write(to: dir.appendingPathComponent("jobs/\(old.id).json"))

        let reopened = TrainerQueue(stateDirectory: dir) { _, _, _ in "x/1" }
        let restored = try #require(reopened.job(old.id), "an old file with numeric dates did not load")
        #expect(restored == old)
        let again = try #require(reopened.job(job.id))
        #expect(abs(again.created.timeIntervalSince(job.created)) < 0.001)
        #expect(reopened.allJobs().map(\.id) == [old.id, job.id])
    }
}
