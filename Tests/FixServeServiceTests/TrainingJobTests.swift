import Foundation
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
