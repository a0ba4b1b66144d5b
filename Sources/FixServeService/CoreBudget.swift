import Synchronization

/// The cores that the batches of every model share.
///
/// A batch always runs on its own thread. It borrows more cores for its forward pass only while
/// no other batch holds them: a lone request is computed on every core, and a loaded server runs
/// one thread per batch instead of more threads than cores.
final class CoreBudget: Sendable {
    /// How many threads may compute at once before batches stop borrowing.
    let cores: Int
    private let busy = Atomic<Int>(0)

    init(cores: Int) {
        self.cores = max(1, cores)
    }

    /// Claims the batch's own thread plus up to `wanted − 1` idle cores; returns the number
    /// claimed (at least 1), which the caller hands back to `release` when its batch is done.
    func claim(upTo wanted: Int) -> Int {
        var current = busy.load(ordering: .relaxed)
        while true {
            let claimed = 1 + max(0, min(wanted - 1, cores - current - 1))
            let (exchanged, original) = busy.compareExchange(
                expected: current, desired: current + claimed, ordering: .acquiringAndReleasing)
            if exchanged { return claimed }
            current = original
        }
    }

    /// Returns what `claim` gave.
    func release(_ claimed: Int) {
        busy.subtract(claimed, ordering: .releasing)
    }

    /// Threads computing now.
    var inUse: Int { busy.load(ordering: .relaxed) }
}
