import Dispatch
import Foundation
import Testing
@testable import FixServeService

/// A batcher over rows of one value whose compute maps each value through `transform`
/// (after `before`), as the tests' models.
private func makeBatcher(
    _ settings: DynamicBatcher.Settings, queue: DispatchQueue, sizes: BatchSizes? = nil,
    before: @escaping @Sendable ([Float], Int) throws -> Void = { _, _ in },
    transform: @escaping @Sendable (Float) -> Float = { $0 }
) -> DynamicBatcher {
    DynamicBatcher(label: "t", settings: settings, rowSize: 1, resultSize: 1, computeQueue: queue,
                   onBatch: { sizes?.append($0.rows) }) { input, rows, output, instance in
        try before(Array(input), instance)
        for i in 0..<rows { output[i] = transform(input[i]) }
    }
}

extension DynamicBatcher {
    /// Submits values as rows of one; `completion` gets a copy of the results.
    fileprivate func submit(_ values: [Int], placement: Placement = .computeQueue,
                            completion: @escaping @Sendable (Result<[Int], Error>) -> Void) {
        submit(rows: values.count, placement: placement, write: { buffer in
            for (i, v) in values.enumerated() { buffer[i] = Float(v) }
        }) { result in completion(result.map { answer in answer.results.map { Int($0) } }) }
    }

    fileprivate func submit(_ values: [Int]) async throws -> [Int] {
        try await submit(values.map { [Float($0)] }).map { Int($0[0]) }
    }
}

@Suite struct DynamicBatcherTests {
    private let compute = DispatchQueue(label: "test.compute")

    /// The first request's compute is held until the other 47 requests (94 rows), submitted
    /// from many threads at once, are queued behind it; then the batches are fixed, whatever the
    /// timing: the first alone, then the oldest whole requests that fit 16 rows, five times,
    /// then the last 14 rows.
    @Test func concurrentRequestsShareBatchesAndGetTheirOwnResults() async throws {
        let sizes = BatchSizes()
        let gate = Gate()
        // Opened on every path: a failed expectation must not leave computes (and the test) waiting.
        defer { gate.open() }
        let batcher = makeBatcher(.init(maxBatchSize: 16, maxQueueDelayMicroseconds: 0, maxQueueSize: 256),
                                  queue: compute, sizes: sizes, before: { _, _ in gate.passThrough() }, transform: { $0 * 10 })
        let answers = Answers()
        batcher.submit([0, 1000]) { answers.record(0, $0) }
        try #require(await eventually { gate.waiting == 1 }, "the first batch never reached its compute")
        // Submitting enqueues before it returns: once these calls are back, all 94 rows wait.
        DispatchQueue.concurrentPerform(iterations: 47) { j in
            batcher.submit([j + 1, j + 1001]) { answers.record(j + 1, $0) }
        }
        #expect(batcher.queueDepth == 94)
        gate.open()
        try #require(await eventually { answers.count == 48 }, "\(answers.count) of 48 requests answered")
        for i in 0..<48 { #expect(answers.value(i) == [i * 10, (i + 1000) * 10], "request \(i)") }
        #expect(answers.repeated == 0)
        #expect(sizes.values == [2, 16, 16, 16, 16, 16, 14], "batches: \(sizes.values)")
    }

    /// The callback form, as predictions use it: submitted from many threads at once, each
    /// request hears exactly once with its own rows; refusals come through the callback too.
    @Test func callbacksFromManyThreadsEachGetTheirOwnResults() async throws {
        let sizes = BatchSizes()
        let batcher = makeBatcher(.init(maxBatchSize: 8, maxQueueDelayMicroseconds: 0, maxQueueSize: 4096, instances: 2),
                                  queue: DispatchQueue(label: "test.compute.concurrent", attributes: .concurrent),
                                  sizes: sizes, transform: { $0 + 1 })
        let answers = Answers()
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            batcher.submit([i * 2, i * 2 + 1]) { answers.record(i, $0) }
        }
        let tooLarge = Answers()
        batcher.submit(Array(0..<9)) { tooLarge.record(0, $0) }
        for _ in 0..<500 where answers.count < 400 { try await Task.sleep(for: .milliseconds(10)) }
        #expect(answers.count == 400)
        for i in 0..<400 { #expect(answers.value(i) == [i * 2 + 1, i * 2 + 2], "request \(i)") }
        #expect(answers.repeated == 0)
        #expect(tooLarge.error(0) as? BatcherError == .batchTooLarge(rows: 9, maxBatchSize: 8))
        #expect(sizes.values.reduce(0, +) == 800)
        #expect(sizes.values.allSatisfy { $0 <= 8 })
    }

    @Test func refusesRequestsLargerThanABatchAndAFullQueue() async throws {
        let gate = Gate()
        defer { gate.open() }
        let batcher = makeBatcher(.init(maxBatchSize: 4, maxQueueDelayMicroseconds: 0, maxQueueSize: 4),
                                  queue: compute, before: { _, _ in gate.passThrough() })
        await #expect(throws: BatcherError.batchTooLarge(rows: 5, maxBatchSize: 4)) {
            try await batcher.submit([1, 2, 3, 4, 5])
        }
        // The first batch is held in its compute; the second request fills the queue, a third overflows it.
        let answers = Answers()
        batcher.submit([1, 2, 3, 4]) { answers.record(1, $0) }
        try #require(await eventually { gate.waiting == 1 }, "the first batch never reached its compute")
        batcher.submit([5, 6, 7, 8]) { answers.record(2, $0) }
        #expect(batcher.queueDepth == 4)
        batcher.submit([9]) { answers.record(3, $0) }
        #expect(answers.error(3) as? BatcherError == .queueFull(queued: 4, maxQueueSize: 4))
        gate.open()
        try #require(await eventually { answers.count == 3 }, "\(answers.count) of 3 requests answered")
        #expect(answers.value(1) == [1, 2, 3, 4])
        #expect(answers.value(2) == [5, 6, 7, 8])
    }

    @Test func aFailingBatchFailsOnlyItsOwnRequests() async throws {
        struct Boom: Error {}
        let batcher = makeBatcher(.init(maxBatchSize: 1, maxQueueDelayMicroseconds: 0, maxQueueSize: 8),
                                  queue: compute, before: { rows, _ in if rows == [13] { throw Boom() } })
        await #expect(throws: Boom.self) { try await batcher.submit([13]) }
        #expect(try await batcher.submit([7]) == [7])
    }

    /// A request whose rows cannot be written (a corrupt image, say) fails alone: the requests
    /// after it in the same batch take its place in the buffer and get their own results.
    @Test func aRequestThatCannotWriteItsRowsFailsAloneAndLeavesNoGap() async throws {
        struct Corrupt: Error {}
        let sizes = BatchSizes()
        let gate = Gate()
        defer { gate.open() }
        let batcher = makeBatcher(.init(maxBatchSize: 8, maxQueueDelayMicroseconds: 0, maxQueueSize: 64),
                                  queue: compute, sizes: sizes, before: { _, _ in gate.passThrough() }, transform: { $0 * 2 })
        let answers = Answers()
        batcher.submit([100]) { answers.record(0, $0) }
        try #require(await eventually { gate.waiting == 1 }, "the first batch never reached its compute")
        batcher.submit([1, 2]) { answers.record(1, $0) }
        batcher.submit(rows: 2, write: { _ in throw Corrupt() }) { result in
            answers.record(2, result.map { _ in [] })
        }
        batcher.submit([3, 4]) { answers.record(3, $0) }
        gate.open()
        try #require(await eventually { answers.count == 4 }, "\(answers.count) of 4 requests answered")
        #expect(answers.value(1) == [2, 4])
        #expect(answers.error(2) is Corrupt)
        #expect(answers.value(3) == [6, 8])
        #expect(sizes.values == [1, 4], "batches: \(sizes.values)")
    }

    /// `.callerWhenIdle` runs the batch on the submitting thread only when nothing else
    /// computes or waits; `.computeQueue` never does.
    @Test func anIdleBatcherRunsTheBatchOnTheCallersThreadWhenAllowed() async throws {
        let threads = ThreadIDs()
        let batcher = makeBatcher(.init(maxBatchSize: 4, maxQueueDelayMicroseconds: 0, maxQueueSize: 16),
                                  queue: DispatchQueue(label: "test.compute.named"),
                                  before: { _, _ in threads.record(pthread_self()) })
        let answers = Answers()
        let answered = DispatchSemaphore(value: 0)
        let caller = Thread {
            threads.caller = pthread_self()
            batcher.submit([1], placement: .callerWhenIdle) { answers.record(0, $0) }
            batcher.submit([2], placement: .computeQueue) { answers.record(1, $0); answered.signal() }
            // Alive until the other batch has run: a thread that has ended may lend its ID to
            // the next thread started, the compute queue's among them.
            _ = answered.wait(timeout: .now() + 10)
        }
        caller.start()
        try #require(await eventually { answers.count == 2 }, "\(answers.count) of 2 requests answered")
        #expect(answers.value(0) == [1] && answers.value(1) == [2])
        let ran = threads.computes
        #expect(ran.count == 2)
        #expect(ran.first.map { pthread_equal($0, threads.caller!) != 0 } == true, "the idle batch left the caller's thread")
        #expect(ran.last.map { pthread_equal($0, threads.caller!) == 0 } == true, "a .computeQueue batch ran on the caller's thread")
    }

    /// `.afterCurrentWork(loop)` gathers what a loop submits in one block into one batch that
    /// runs on that queue once the block is done, once the batcher has measured a batch that
    /// fits the loop's budget; a model too slow for the budget keeps to the compute queue.
    @Test func requestsOfOneLoopWakeUpShareABatchOnThatLoop() async throws {
        let loop = DispatchQueue(label: "test.loop")
        let scheduler = QueueLoop(queue: loop)
        let onLoop = DispatchSpecificKey<Bool>()
        loop.setSpecific(key: onLoop, value: true)
        let places = Places()
        let sizes = BatchSizes()
        // A budget no batch of this test misses, however loaded the machine: only the order is tested.
        let batcher = makeBatcher(.init(maxBatchSize: 16, maxQueueDelayMicroseconds: 0, maxQueueSize: 64, loopBudgetSeconds: 60),
                                  queue: DispatchQueue(label: "test.compute.loop"), sizes: sizes,
                                  before: { _, _ in places.record(DispatchQueue.getSpecific(key: onLoop) == true) })
        let answers = Answers()
        // Nothing measured yet: the first batch runs on the compute queue.
        batcher.submit([0], placement: .afterCurrentWork(scheduler)) { answers.record(0, $0) }
        try #require(await eventually { answers.count == 1 }, "the first request was not answered")
        loop.async {
            for i in 1...5 { batcher.submit([i], placement: .afterCurrentWork(scheduler)) { answers.record(i, $0) } }
            // Nothing runs while the loop is busy: the batch waits for the end of this block.
            places.record(marker: true)
        }
        try #require(await eventually { answers.count == 6 }, "\(answers.count) of 6 requests answered")
        for i in 0...5 { #expect(answers.value(i) == [i], "request \(i)") }
        #expect(sizes.values == [1, 5], "batches: \(sizes.values)")
        #expect(places.values == ["compute", "marker", "loop"], "ran on: \(places.values)")

        // A batch of one row takes 2 ms against a budget of 1 ms: slower than the loop allows.
        let slow = makeBatcher(.init(maxBatchSize: 16, maxQueueDelayMicroseconds: 0, maxQueueSize: 64, loopBudgetSeconds: 0.001),
                               queue: DispatchQueue(label: "test.compute.slow"),
                               before: { _, _ in
                                   places.record(DispatchQueue.getSpecific(key: onLoop) == true)
                                   usleep(2000)
                               })
        slow.submit([7], placement: .afterCurrentWork(scheduler)) { answers.record(7, $0) }
        try #require(await eventually { answers.count == 7 })
        loop.async { slow.submit([8], placement: .afterCurrentWork(scheduler)) { answers.record(8, $0) } }
        try #require(await eventually { answers.count == 8 })
        #expect(answers.value(8) == [8])
        #expect(places.values.suffix(2) == ["compute", "compute"], "a batch over the budget held the loop: \(places.values)")
    }

    /// A model too slow for loop batches under load (a row takes 6 ms against a budget of 40:
    /// fewer than 8 rows fit) still runs a lone request on its loop while the batcher is idle,
    /// sparing the hand-off to a compute thread and back; a request that finds a batch
    /// computing waits for the compute queue.
    @Test func anIdleBatcherRunsALoneRequestOnItsLoop() async throws {
        let loop = DispatchQueue(label: "test.loop.idle")
        let scheduler = QueueLoop(queue: loop)
        let onLoop = DispatchSpecificKey<Bool>()
        loop.setSpecific(key: onLoop, value: true)
        let places = Places()
        let gate = Gate()
        let batcher = makeBatcher(.init(maxBatchSize: 16, maxQueueDelayMicroseconds: 0, maxQueueSize: 64, loopBudgetSeconds: 0.040),
                                  queue: DispatchQueue(label: "test.compute.idle"),
                                  before: { input, _ in
                                      places.record(DispatchQueue.getSpecific(key: onLoop) == true)
                                      if input.first == 2 { gate.passThrough() }
                                      usleep(6000)
                                  })
        let answers = Answers()
        // Nothing measured yet: the first batch runs on the compute queue.
        batcher.submit([0], placement: .afterCurrentWork(scheduler)) { answers.record(0, $0) }
        try #require(await eventually { answers.count == 1 })
        loop.async { batcher.submit([1], placement: .afterCurrentWork(scheduler)) { answers.record(1, $0) } }
        try #require(await eventually { answers.count == 2 })
        // Request 2 holds the instance; request 3 arrives on the loop meanwhile.
        batcher.submit([2]) { answers.record(2, $0) }
        try #require(await eventually { gate.waiting == 1 })
        loop.async { batcher.submit([3], placement: .afterCurrentWork(scheduler)) { answers.record(3, $0) } }
        try #require(await eventually { batcher.queueDepth == 1 })
        gate.open()
        try #require(await eventually { answers.count == 4 })
        for i in 0...3 { #expect(answers.value(i) == [i], "request \(i)") }
        #expect(places.values == ["compute", "loop", "compute", "compute"], "ran on: \(places.values)")
    }
}

/// A serial queue as the batcher's loop: handed-on work runs in a block after the current one.
private struct QueueLoop: LoopScheduler {
    let queue: DispatchQueue
    func afterCurrentWork(_ work: @escaping @Sendable () -> Void) { queue.async(execute: work) }
}

/// Where each compute ran ("loop" or "compute"), with markers the test drops in between.
private final class Places: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [String] = []
    func record(_ onLoop: Bool) { lock.withLock { storage.append(onLoop ? "loop" : "compute") } }
    func record(marker: Bool) { lock.withLock { storage.append("marker") } }
    var values: [String] { lock.withLock { storage } }
}

private final class ThreadIDs: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [pthread_t] = []
    private var callerID: pthread_t?
    var caller: pthread_t? {
        get { lock.withLock { callerID } }
        set { lock.withLock { callerID = newValue } }
    }
    func record(_ id: pthread_t) { lock.withLock { storage.append(id) } }
    var computes: [pthread_t] { lock.withLock { storage } }
}

/// Holds computes until the test opens it, counting those waiting.
private final class Gate: @unchecked Sendable {
    private let condition = NSCondition()
    private var isOpen = false
    private var count = 0

    /// Blocks the calling compute until `open()`.
    func passThrough() {
        condition.lock()
        count += 1
        while !isOpen { condition.wait() }
        count -= 1
        condition.unlock()
    }

    func open() {
        condition.lock()
        isOpen = true
        condition.broadcast()
        condition.unlock()
    }

    var waiting: Int {
        condition.lock()
        defer { condition.unlock() }
        return count
    }
}

/// Whether `condition` holds within `seconds`, checked every 2 ms: for states the test waits
/// for, never for how long something takes. Generous, since it returns as soon as the state
/// holds and other suites may keep the cooperative threads busy meanwhile.
private func eventually(within seconds: Double = 60, _ condition: () -> Bool) async -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while !condition() {
        guard Date() < deadline else { return false }
        try? await Task.sleep(for: .milliseconds(2))
    }
    return true
}

private final class BatchSizes: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Int] = []
    func append(_ n: Int) { lock.withLock { storage.append(n) } }
    var values: [Int] { lock.withLock { storage } }
}

@Suite struct DynamicBatcherInstanceTests {
    @Test func twoInstancesComputeTwoBatchesAtOnceNeverSharingAnInstance() async throws {
        let active = ActiveInstances()
        let batcher = makeBatcher(.init(maxBatchSize: 2, maxQueueDelayMicroseconds: 0, maxQueueSize: 256, instances: 2),
                                  queue: DispatchQueue(label: "test.compute", attributes: .concurrent), before: { _, instance in
            active.enter(instance)
            // Held until both instances compute at once (bounded), so the outcome does not
            // depend on how fast the machine starts a second thread.
            let deadline = Date().addingTimeInterval(10)
            while active.mostAtOnce < 2, Date() < deadline { Thread.sleep(forTimeInterval: 0.001) }
            active.leave(instance)
        })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<16 {
                group.addTask {
                    let result = try await batcher.submit([i])
                    #expect(result == [i])
                }
            }
            try await group.waitForAll()
        }
        #expect(active.sharedAnInstance == false)
        #expect(active.mostAtOnce == 2)
    }
}

private final class ActiveInstances: @unchecked Sendable {
    private let lock = NSLock()
    private var busy: Set<Int> = []
    private var shared = false
    private var most = 0
    var sharedAnInstance: Bool { lock.withLock { shared } }
    var mostAtOnce: Int { lock.withLock { most } }
    func enter(_ i: Int) {
        lock.withLock {
            if busy.contains(i) { shared = true }
            busy.insert(i)
            most = max(most, busy.count)
        }
    }
    func leave(_ i: Int) { lock.withLock { _ = busy.remove(i) } }
}

/// Results that callbacks deliver, by request, counting any request answered twice.
private final class Answers: @unchecked Sendable {
    private let lock = NSLock()
    private var results: [Int: Result<[Int], Error>] = [:]
    private var repeats = 0

    func record(_ request: Int, _ result: Result<[Int], Error>) {
        lock.withLock {
            if results[request] != nil { repeats += 1 }
            results[request] = result
        }
    }

    var count: Int { lock.withLock { results.count } }
    var repeated: Int { lock.withLock { repeats } }
    func value(_ request: Int) -> [Int]? { lock.withLock { try? results[request]?.get() } }
    func error(_ request: Int) -> Error? {
        lock.withLock {
            guard case .failure(let error) = results[request] else { return nil }
            return error
        }
    }
}
