import Foundation
import Testing
@testable import Numerics

@Suite struct SoftmaxTests {
    /// [0, ln 2, 0] → [1/4, 1/2, 1/4], and the log-sum-exp is ln 4.
    @Test func handComputedRow() {
        let logits: [Float] = [0, Float(log(2.0)), 0]
        let p = Softmax.probabilities(logits)
        let difference = maxAbsDifference(p, [0.25, 0.5, 0.25])
        #expect(difference < 1e-7, "softmax differs by \(difference)")
        let (maximum, logSum) = logits.withUnsafeBufferPointer { Softmax.logSumExp($0) }
        #expect(abs(maximum + logSum - log(4.0)) < 1e-7)
    }

    /// Logits far beyond exp's Float range still give finite probabilities that sum to 1, equal
    /// to those of the same row shifted down.
    @Test func largeLogitsDoNotOverflow() {
        let p = Softmax.probabilities([1000, 999, -1000])
        #expect(p.allSatisfy { $0.isFinite })
        #expect(abs(p.reduce(0, +) - 1) < 1e-6)
        let shifted = Softmax.probabilities([1, 0, -1999])
        #expect(maxAbsDifference(p, shifted.map(Double.init)) < 1e-7)
    }

    /// The tensor form used in training is the row form, row by row.
    @Test func crossEntropyProbabilitiesAreTheRowSoftmax() {
        let logits = Tensor(shape: [2, 3], data: [0.5, -1, 2, 3, 3, 0])
        let p = SoftmaxCrossEntropy.probabilities(logits: logits)
        #expect(Array(p.data[0..<3]) == Softmax.probabilities([0.5, -1, 2]))
        #expect(Array(p.data[3..<6]) == Softmax.probabilities([3, 3, 0]))
        #expect(Softmax.probabilities([]) == [])
    }
}
