import Foundation

/// softmax(x)_c = exp(x_c − m) / Σ_k exp(x_k − m) over one row of C logits, with m = max_k x_k:
/// the one implementation that training's loss, the served probabilities and `fixserve predict`
/// share. Shifting by the maximum keeps large logits from overflowing; the sum is accumulated in
/// Double, so rows of thousands of classes still sum to 1 within Float rounding.
public enum Softmax {
    /// (m, log Σ_k exp(x_k − m)) of one row: log Σ exp(x) = m + the second value. A row with
    /// no elements gives (−∞, −∞).
    public static func logSumExp(_ logits: UnsafeBufferPointer<Float>) -> (maximum: Double, logSum: Double) {
        var maximum = -Double.infinity
        for x in logits { maximum = max(maximum, Double(x)) }
        var sum: Double = 0
        for x in logits { sum += exp(Double(x) - maximum) }
        return (maximum, log(sum))
    }

    /// Writes the softmax of `logits` (C values) into `probabilities` (C values); returns the
    /// row's `logSumExp`, which the cross-entropy needs as well.
    @discardableResult
    public static func probabilities(_ logits: UnsafeBufferPointer<Float>,
                                     into probabilities: UnsafeMutableBufferPointer<Float>) -> (maximum: Double, logSum: Double) {
        precondition(probabilities.count == logits.count, "softmax of \(logits.count) logits into \(probabilities.count) values")
        let (maximum, logSum) = logSumExp(logits)
        for c in logits.indices { probabilities[c] = Float(exp(Double(logits[c]) - maximum - logSum)) }
        return (maximum, logSum)
    }

    /// The softmax of one row of logits [C].
    public static func probabilities(_ logits: [Float]) -> [Float] {
        var out = [Float](repeating: 0, count: logits.count)
        logits.withUnsafeBufferPointer { x in
            out.withUnsafeMutableBufferPointer { p in _ = probabilities(x, into: p) }
        }
        return out
    }
}
