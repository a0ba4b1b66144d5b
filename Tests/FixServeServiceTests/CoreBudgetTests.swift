import Dispatch
import Synchronization
import Testing
@testable import FixServeService

/// The budget that lets a lone batch borrow idle cores and keeps loaded batches to one thread each.
@Suite struct CoreBudgetTests {
    @Test func aLoneBatchBorrowsIdleCoresAndLaterOnesGetTheirOwnThread() {
        let budget = CoreBudget(cores: 4)
        #expect(budget.claim(upTo: 3) == 3)
        #expect(budget.claim(upTo: 4) == 1, "one core left idle: the batch's own thread, nothing to borrow")
        #expect(budget.claim(upTo: 2) == 1, "over budget a batch still runs, on its own thread")
        #expect(budget.inUse == 5)
        budget.release(3)
        #expect(budget.claim(upTo: 8) == 2)
        budget.release(2)
        budget.release(1)
        budget.release(1)
        #expect(budget.inUse == 0)
        #expect(budget.claim(upTo: 1) == 1)
        budget.release(1)
    }

    @Test func concurrentClaimsNeverBorrowPastTheCores() {
        let cores = 2, claimers = 8
        let budget = CoreBudget(cores: cores)
        let most = Atomic<Int>(0)
        DispatchQueue.concurrentPerform(iterations: claimers) { _ in
            for _ in 0..<2_000 {
                let claimed = budget.claim(upTo: cores)
                var seen = most.load(ordering: .relaxed)
                while budget.inUse > seen {
                    (_, seen) = most.compareExchange(expected: seen, desired: budget.inUse, ordering: .relaxed)
                }
                budget.release(claimed)
            }
        }
        // Every claimer holds its own thread; only one of them can have borrowed the one spare core.
        #expect(most.load(ordering: .relaxed) <= claimers + cores - 1)
        #expect(budget.inUse == 0, "every claim was given back")
    }
}
