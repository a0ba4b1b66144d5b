import Foundation

/// A fixed number of threads a training step's layers share their loops among.
///
/// Each call splits `0..<items` into contiguous ranges that depend only on the item and worker
/// counts: worker `w` always gets the same range, so a layer that keeps per-worker partial sums
/// and adds them in worker order is deterministic for a given count. With one worker everything
/// runs on the caller's thread, in order.
///
/// Layers split their loops here instead of leaving them to OpenBLAS threads: a training step's
/// products are too small for BLAS's threads to pay off, and everything between them (batch
/// statistics, pooling, ReLU, patch folding) would otherwise stay on one core. The helpers are
/// threads of the pool's own, started by whoever creates it, so they inherit its scheduling
/// priority (the server's trainer thread runs niced below the request threads).
public final class WorkerPool: @unchecked Sendable {
    /// The number of workers, ≥ 1: the caller's thread and `count − 1` helpers.
    public let count: Int

    /// One worker: every loop on the caller's thread.
    public static let serial = WorkerPool(count: 1)

    private let helpers: [Helper]
    private let finished = DispatchSemaphore(value: 0)

    /// A pool of `count` workers (clamped to 1…64).
    public init(count: Int) {
        self.count = min(max(1, count), 64)
        let finished = self.finished
        helpers = (1..<self.count).map { Helper(index: $0, finished: finished) }
    }

    deinit {
        for helper in helpers { helper.stop() }
    }

    /// The range of `0..<items` that worker `worker` of `workers` takes.
    public static func range(of worker: Int, among workers: Int, items: Int) -> Range<Int> {
        (items * worker / workers)..<(items * (worker + 1) / workers)
    }

    /// The number of workers a split of `items` uses: no more than there are items.
    public func workers(for items: Int) -> Int {
        max(1, min(count, items))
    }

    /// Runs `body(worker, range)` on every worker's share of `0..<items` at once (worker 0 on
    /// the caller's thread) and returns when all are done. Not reentrant: one split at a time.
    public func split(_ items: Int, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
        let workers = workers(for: items)
        guard workers > 1 else {
            if items > 0 { body(0, 0..<items) }
            return
        }
        withoutActuallyEscaping(body) { body in
            for helper in helpers.prefix(workers - 1) {
                let range = Self.range(of: helper.index, among: workers, items: items)
                helper.run { body(helper.index, range) }
            }
            body(0, Self.range(of: 0, among: workers, items: items))
            for _ in 1..<workers { finished.wait() }
        }
    }

    /// One helper thread, waiting for work.
    private final class Helper: @unchecked Sendable {
        let index: Int
        private let finished: DispatchSemaphore
        private let started = DispatchSemaphore(value: 0)
        /// The work handed over; written before `started` is signalled and read after it.
        private var work: (() -> Void)?
        private var stopping = false

        init(index: Int, finished: DispatchSemaphore) {
            self.index = index
            self.finished = finished
            Thread { [self] in
                Thread.current.name = "fixserve-worker-\(index)"  // from inside, so the kernel sees it
                loop()
            }.start()
        }

        func run(_ work: @escaping () -> Void) {
            self.work = work
            started.signal()
        }

        func stop() {
            stopping = true
            started.signal()
        }

        private func loop() {
            while true {
                started.wait()
                if stopping { return }
                work?()
                work = nil
                finished.signal()
            }
        }
    }
}
