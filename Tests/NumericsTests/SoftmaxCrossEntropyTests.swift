import Foundation
import Testing
@testable import Numerics

@Suite struct SoftmaxCrossEntropyTests {
    /// logits [[0, ln 2, 0]] with label 1: softmax = [1/4, 1/2, 1/4], loss = ln 2, gradient = softmax − onehot.
    @Test func handComputedCase() throws {
        let logits = Tensor(shape: [1, 3], data: [0, Float(log(2.0)), 0])
        let (loss, gradient) = try SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: [1])
        #expect(abs(loss - Float(log(2.0))) < 1e-6, "loss \(loss)")
        let difference = maxAbsDifference(gradient.data, [0.25, -0.5, 0.25])
        #expect(difference < 1e-6, "gradient differs by \(difference)")
    }

    /// Central differences in Double of a Double re-implementation; tolerance 1e-5.
    @Test func gradientMatchesFiniteDifferences() throws {
        var data = TestData(seed: 12)
        let (batch, classes) = (4, 6)
        let logits = data.gaussian(batch * classes).map { $0 * 3 }
        let labels = [0, 5, 2, 2]
        func reference(_ z: [Double]) -> Double {
            (0..<batch).reduce(0.0) { total, b in
                let row = z[(b * classes)..<((b + 1) * classes)]
                return total + log(row.reduce(0) { $0 + exp($1) }) - z[b * classes + labels[b]]
            } / Double(batch)
        }
        let z = logits.map(Double.init)
        let numeric = z.indices.map { i -> Double in
            var plus = z, minus = z
            plus[i] += 1e-6; minus[i] -= 1e-6
            return (reference(plus) - reference(minus)) / 2e-6
        }
        let (loss, gradient) = try SoftmaxCrossEntropy.lossAndGradient(logits: Tensor(shape: [batch, classes], data: logits), labels: labels)
        #expect(abs(Double(loss) - reference(z)) < 1e-5, "loss \(loss) vs \(reference(z))")
        #expect(try SoftmaxCrossEntropy.loss(logits: Tensor(shape: [batch, classes], data: logits), labels: labels) == loss)
        let difference = maxAbsDifference(gradient.data, numeric)
        #expect(difference < 1e-5, "gradient differs from finite differences by \(difference)")
    }

    @Test func largeLogitsStayFinite() throws {
        let (loss, gradient) = try SoftmaxCrossEntropy.lossAndGradient(
            logits: Tensor(shape: [1, 3], data: [1000, -1000, 990]), labels: [2])
        #expect(abs(loss - 10) < 1e-3, "loss \(loss)")
        #expect(gradient.data.allSatisfy { $0.isFinite })
    }

    @Test func accuracyAndTopK() throws {
        let logits = Tensor(shape: [3, 4], data: [0.1, 0.9, 0.5, 0.2, 3, 1, 2, 0, 0, 0, 0, 1])
        #expect(SoftmaxCrossEntropy.predictions(logits: logits) == [1, 0, 3])
        #expect(SoftmaxCrossEntropy.topK(logits: logits, k: 2) == [[1, 2], [0, 2], [3, 0]])
        #expect(try SoftmaxCrossEntropy.accuracy(logits: logits, labels: [1, 2, 3]) == Float(2) / 3)
        #expect(try SoftmaxCrossEntropy.topKAccuracy(logits: logits, labels: [1, 2, 3], k: 2) == 1)
        let p = SoftmaxCrossEntropy.probabilities(logits: logits)
        #expect(abs(p.data[8..<12].reduce(0, +) - 1) < 1e-6)
    }

    @Test func badLabelsAreRefused() {
        let logits = Tensor(shape: [2, 3])
        #expect(throws: NumericsError.self) { try SoftmaxCrossEntropy.loss(logits: logits, labels: [0, 3]) }
        #expect(throws: NumericsError.self) { try SoftmaxCrossEntropy.loss(logits: logits, labels: [0]) }
        #expect(throws: NumericsError.self) { try SoftmaxCrossEntropy.accuracy(logits: logits, labels: [-1, 0]) }
    }
}
