/// The positions of the largest values of a row: what the predictions route and the
/// classification extension answer with.
enum TopK {
    /// The indices of the `k` largest values of `row`, largest first; equal values keep the lower
    /// index first, as a stable sort would. One pass with a small insertion list, no sort of the
    /// whole row and no array of pairs: this runs once per answered image.
    static func indices(of row: [Float], count k: Int) -> [Int] {
        let k = min(k, row.count)
        guard k > 0 else { return [] }
        var best: [Int] = []
        best.reserveCapacity(k)
        for index in row.indices {
            let value = row[index]
            if best.count == k {
                // Strictly greater: a later equal value never displaces an earlier one.
                guard value > row[best[k - 1]] else { continue }
                best.removeLast()
            }
            var slot = best.count
            while slot > 0, value > row[best[slot - 1]] { slot -= 1 }
            best.insert(index, at: slot)
        }
        return best
    }
}
