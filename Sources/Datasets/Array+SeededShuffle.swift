import Numerics

extension Array {
    /// Fisher–Yates with a fixed algorithm, so a seed gives the same order on every platform
    /// and Swift version (the standard library's `shuffle(using:)` makes no such promise).
    mutating func seededShuffle(using generator: inout SeededGenerator) {
        guard count > 1 else { return }
        for i in stride(from: count - 1, to: 0, by: -1) {
            // The high half of a 64×64-bit product: a near-uniform index in 0...i.
            let j = Int(generator.next().multipliedFullWidth(by: UInt64(i + 1)).high)
            swapAt(i, j)
        }
    }
}
