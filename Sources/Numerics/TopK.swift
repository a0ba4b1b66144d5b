/// The positions of the largest values of a row: the top classes that training's top-k accuracy,
/// the predictions route, the classification extension and `fixserve predict` all report.
public enum TopK {
    /// The offsets (0 ..< `row.count`) of the `k` largest values of `row`, largest first; equal
    /// values keep the lower offset first, as a stable sort would. One pass with a small
    /// insertion list, no sort of the whole row and no array of pairs: the server runs this once
    /// per answered image.
    public static func indices(of row: UnsafeBufferPointer<Float>, count k: Int) -> [Int] {
        let k = min(k, row.count)
        guard k > 0 else { return [] }
        return [Int](unsafeUninitializedCapacity: k) { buffer, initialized in
            initialized = indices(of: row, into: buffer)
        }
    }

    /// Writes the offsets of the `best.count` largest values of `row` into `best`, largest
    /// first, and returns how many it wrote (fewer when the row is shorter): for callers that
    /// keep the list on the stack.
    public static func indices(of row: UnsafeBufferPointer<Float>, into best: UnsafeMutableBufferPointer<Int>) -> Int {
        let k = min(best.count, row.count)
        var count = 0
        for index in row.indices {
            let value = row[index]
            if count == k {
                // Strictly greater: a later equal value never displaces an earlier one.
                guard k > 0, value > row[best[k - 1]] else { continue }
                count -= 1
            }
            var slot = count
            while slot > 0, value > row[best[slot - 1]] {
                best[slot] = best[slot - 1]
                slot -= 1
            }
            best[slot] = index
            count += 1
        }
        return count
    }

    /// The indices of the `k` largest values of `row`, largest first (ties: lower index first).
    public static func indices(of row: [Float], count k: Int) -> [Int] {
        row.withUnsafeBufferPointer { indices(of: $0, count: k) }
    }
}
