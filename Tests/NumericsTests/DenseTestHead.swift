import Foundation
@testable import Numerics

/// A test-only classification head: y = α·(x̃ M) + b with an explicit dense M [N, C], where
/// x̃ = x/‖x‖ when `normalizes` (the fixed-classifier form) and x̃ = x otherwise (a plain
/// linear head). Plain Double loops, so each row's logits are independent of the batch.
final class DenseTestHead: ClassificationHead {
    let features: Int
    let classes: Int
    let normalizes: Bool
    /// M [N, C]
    let weight: Parameter
    /// α [1]
    let alpha: Parameter
    /// b [C]
    let bias: Parameter

    private var input: Tensor?

    init(features: Int, classes: Int, normalizes: Bool, seed: UInt64) {
        self.features = features
        self.classes = classes
        self.normalizes = normalizes
        var generator = SeededGenerator(seed: seed)
        weight = Parameter(name: "weight", value: Kaiming.normal(shape: [features, classes], fanIn: features, generator: &generator))
        alpha = Parameter(name: "alpha", value: Tensor(shape: [1], repeating: normalizes ? 4 : 1))
        bias = Parameter(name: "bias", value: Tensor(shape: [classes]))
    }

    var spec: HeadSpec { HeadSpec(kind: .learned, features: features, classes: classes, bias: true) }
    var coherence: Float { 0 }
    var parameters: [Parameter] { [weight, alpha, bias] }

    /// x̃ for row `r` and the norm it was divided by.
    private func scaled(_ x: Tensor, row r: Int) -> (values: [Double], norm: Double) {
        let v = (0..<features).map { Double(x.data[r * features + $0]) }
        guard normalizes else { return (v, 1) }
        let norm = max(v.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-12)
        return (v.map { $0 / norm }, norm)
    }

    func forward(_ input: Tensor, training: Bool) -> Tensor {
        precondition(input.rank == 2 && input.shape[1] == features)
        self.input = input
        let batch = input.shape[0]
        var y = Tensor(shape: [batch, classes])
        for r in 0..<batch {
            let (x, _) = scaled(input, row: r)
            for c in 0..<classes {
                var sum = 0.0
                for n in 0..<features { sum += x[n] * Double(weight.value.data[n * classes + c]) }
                y.data[r * classes + c] = Float(Double(alpha.value.data[0]) * sum + Double(bias.value.data[c]))
            }
        }
        return y
    }

    func infer(_ input: UnsafePointer<Float>, batch: Int, into output: UnsafeMutablePointer<Float>) {
        let x = Tensor(shape: [batch, features], data: Array(UnsafeBufferPointer(start: input, count: batch * features)))
        let y = forward(x, training: false)
        output.update(from: y.data, count: batch * classes)
    }

    func backward(_ outputGradient: Tensor) -> Tensor {
        guard let input else { preconditionFailure("forward first") }
        let batch = input.shape[0]
        let a = Double(alpha.value.data[0])
        var dx = Tensor(shape: input.shape)
        for r in 0..<batch {
            let (x, norm) = scaled(input, row: r)
            let dy = (0..<classes).map { Double(outputGradient.data[r * classes + $0]) }
            var dScaled = [Double](repeating: 0, count: features)
            for n in 0..<features {
                var sum = 0.0
                for c in 0..<classes {
                    let m = Double(weight.value.data[n * classes + c])
                    sum += dy[c] * m
                    weight.gradient.data[n * classes + c] += Float(a * x[n] * dy[c])
                }
                dScaled[n] = a * sum
            }
            for c in 0..<classes {
                var xm = 0.0
                for n in 0..<features { xm += x[n] * Double(weight.value.data[n * classes + c]) }
                alpha.gradient.data[0] += Float(dy[c] * xm)
                bias.gradient.data[c] += Float(dy[c])
            }
            if normalizes {
                // d(x/‖x‖) = (I − x̂x̂ᵀ)/‖x‖
                let along = zip(x, dScaled).reduce(0) { $0 + $1.0 * $1.1 }
                for n in 0..<features { dx.data[r * features + n] = Float((dScaled[n] - x[n] * along) / norm) }
            } else {
                for n in 0..<features { dx.data[r * features + n] = Float(dScaled[n]) }
            }
        }
        return dx
    }
}
