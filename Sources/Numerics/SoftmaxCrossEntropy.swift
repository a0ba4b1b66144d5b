import Foundation

/// Softmax cross-entropy over logits [B, C] and integer labels in 0..<C, with the usual
/// classification metrics. The softmax and its log-sum-exp are `Softmax`'s (shifted by each
/// row's maximum, summed in Double); the top classes are `TopK`'s.
public enum SoftmaxCrossEntropy {
    /// The mean over the batch of −log softmax(logits)[label], and its gradient with respect to
    /// the logits, (softmax − onehot) / B, [B, C].
    ///
    /// Throws `invalidInput` when the logits are not [B, C] with B = labels.count ≥ 1 or a label
    /// is outside 0..<C.
    public static func lossAndGradient(logits: Tensor, labels: [Int]) throws -> (loss: Float, gradient: Tensor) {
        let (batch, classes) = try validate(logits, labels: labels)
        var gradient = Tensor(shape: [batch, classes])
        var total: Double = 0
        let scale = Float(1 / Double(batch))
        logits.data.withUnsafeBufferPointer { x in
            gradient.data.withUnsafeMutableBufferPointer { g in
                for row in 0..<batch {
                    let offset = row * classes
                    let logitsRow = UnsafeBufferPointer(rebasing: x[offset..<offset + classes])
                    let gradientRow = UnsafeMutableBufferPointer(rebasing: g[offset..<offset + classes])
                    let (maximum, logSum) = Softmax.probabilities(logitsRow, into: gradientRow)
                    total += maximum + logSum - Double(x[offset + labels[row]])
                    gradientRow[labels[row]] -= 1
                    for c in 0..<classes { gradientRow[c] *= scale }
                }
            }
        }
        return (Float(total / Double(batch)), gradient)
    }

    /// The mean cross-entropy alone; throws like `lossAndGradient`.
    public static func loss(logits: Tensor, labels: [Int]) throws -> Float {
        let (batch, classes) = try validate(logits, labels: labels)
        var total: Double = 0
        logits.data.withUnsafeBufferPointer { x in
            for row in 0..<batch {
                let (maximum, logSum) = Softmax.logSumExp(UnsafeBufferPointer(rebasing: x[(row * classes)..<((row + 1) * classes)]))
                total += maximum + logSum - Double(x[row * classes + labels[row]])
            }
        }
        return Float(total / Double(batch))
    }

    /// The softmax of each row of logits [B, C].
    public static func probabilities(logits: Tensor) -> Tensor {
        precondition(logits.rank == 2, "logits must be [B, C], got \(logits.shape)")
        let classes = logits.shape[1]
        var p = logits
        logits.data.withUnsafeBufferPointer { x in
            p.data.withUnsafeMutableBufferPointer { p in
                for row in 0..<logits.shape[0] {
                    let range = (row * classes)..<((row + 1) * classes)
                    Softmax.probabilities(UnsafeBufferPointer(rebasing: x[range]), into: UnsafeMutableBufferPointer(rebasing: p[range]))
                }
            }
        }
        return p
    }

    /// The classes of the `k` largest logits of each row, largest first (ties: lower class first).
    public static func topK(logits: Tensor, k: Int) -> [[Int]] {
        precondition(logits.rank == 2, "logits must be [B, C], got \(logits.shape)")
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        return logits.data.withUnsafeBufferPointer { x in
            (0..<batch).map { row in TopK.indices(of: UnsafeBufferPointer(rebasing: x[(row * classes)..<((row + 1) * classes)]), count: k) }
        }
    }

    /// The class of the largest logit of each row.
    public static func predictions(logits: Tensor) -> [Int] {
        topK(logits: logits, k: 1).map { $0.first ?? 0 }
    }

    /// The fraction of rows whose label is among the `k` largest logits; throws like `loss`.
    public static func topKAccuracy(logits: Tensor, labels: [Int], k: Int) throws -> Float {
        let (batch, _) = try validate(logits, labels: labels)
        let hits = zip(topK(logits: logits, k: k), labels).filter { $0.0.contains($0.1) }.count
        return Float(hits) / Float(batch)
    }

    /// The fraction of rows whose largest logit is the label; throws like `loss`.
    public static func accuracy(logits: Tensor, labels: [Int]) throws -> Float {
        try topKAccuracy(logits: logits, labels: labels, k: 1)
    }

    private static func validate(_ logits: Tensor, labels: [Int]) throws -> (batch: Int, classes: Int) {
        guard logits.rank == 2, logits.shape[0] == labels.count, logits.shape[0] >= 1, logits.shape[1] >= 1 else {
            throw NumericsError.invalidInput("logits of shape \(logits.shape) do not match \(labels.count) labels")
        }
        let classes = logits.shape[1]
        if let bad = labels.first(where: { !(0..<classes).contains($0) }) {
            throw NumericsError.invalidInput("label \(bad) is outside 0..<\(classes)")
        }
        return (logits.shape[0], classes)
    }
}
