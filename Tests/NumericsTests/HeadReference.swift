import Foundation
@testable import Numerics

/// A Float64 re-implementation of a head's forward pass from its dense matrix, for finite
/// differences and cross-checks.
struct HeadReference {
    enum Form { case learned, fixed }
    var form: Form
    var features: Int
    var classes: Int
    /// learned: W [C][N]; fixed: M [N][C].
    var matrix: [[Double]]
    var alpha: Double
    var bias: [Double]

    /// Logits [B·C] for x [B·N].
    func logits(_ x: [Double]) -> [Double] {
        let batch = x.count / features
        var y = [Double](repeating: 0, count: batch * classes)
        for b in 0..<batch {
            let row = Array(x[(b * features)..<((b + 1) * features)])
            switch form {
            case .learned:
                for c in 0..<classes {
                    y[b * classes + c] = zip(row, matrix[c]).reduce(0) { $0 + $1.0 * $1.1 } + bias[c]
                }
            case .fixed:
                let s = row.reduce(0) { $0 + $1 * $1 }.squareRoot() + Double(FeatureNormalization.epsilon)
                for c in 0..<classes {
                    var dot = 0.0
                    for j in 0..<features { dot += row[j] / s * matrix[j][c] }
                    y[b * classes + c] = alpha * dot + bias[c]
                }
            }
        }
        return y
    }

    /// The explicit Sylvester Hadamard matrix restricted to C rows from `firstRow` and N columns, as [N][C].
    static func hadamard(features: Int, classes: Int, firstRow: Int) -> [[Double]] {
        (0..<features).map { j in
            (0..<classes).map { c in ((firstRow + c) & j).nonzeroBitCount % 2 == 0 ? 1.0 : -1.0 }
        }
    }
}

/// Deterministic test data.
struct TestData {
    var generator: SeededGenerator
    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }
    mutating func gaussian(_ count: Int) -> [Float] { (0..<count).map { _ in Float(generator.nextGaussian()) } }
}

func maxAbsDifference(_ a: [Float], _ b: [Double]) -> Double {
    zip(a, b).reduce(0) { max($0, abs(Double($1.0) - $1.1)) }
}
