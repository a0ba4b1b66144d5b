import Testing
@testable import Numerics

@Suite struct TopKTests {
    /// Against a stable sort of the whole row, on rows full of ties (values from a small set).
    @Test func matchesAStableSortIncludingTies() {
        var generator = SeededGenerator(seed: 31)
        for trial in 0..<200 {
            let count = trial % 23
            let row = (0..<count).map { _ in Float(Int(generator.next() % 7) - 3) / 2 }
            for k in [-1, 0, 1, 2, 5, count, count + 3] {
                let expected = row.indices.sorted { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }.prefix(max(0, k))
                #expect(TopK.indices(of: row, count: k) == Array(expected), "row \(row), k \(k)")
            }
        }
    }

    /// Rows of a [B, C] tensor give offsets within the row, not within the tensor.
    @Test func rowsOfATensorGiveClassIndices() {
        let logits = Tensor(shape: [2, 3], data: [0, 2, 1, 5, 4, 6])
        #expect(SoftmaxCrossEntropy.topK(logits: logits, k: 2) == [[1, 2], [2, 0]])
    }
}
