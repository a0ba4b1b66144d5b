import Foundation
import Testing
@testable import Numerics

/// Central finite differences against a layer's backward pass.
///
/// The loss is L = Σ R ⊙ forward(x) with a fixed random R, summed in Double from the layer's
/// Float32 outputs. Each input or parameter element is moved by ±eps (the difference actually
/// stored in Float32 is used as the step). Float32 rounding of the outputs puts about 1e-6 of
/// noise on L, i.e. ~5e-5 on a numerical gradient at eps = 1e-2, so a tolerance of 2e-3 relative
/// to the largest analytic gradient of the tensor leaves a wide margin while any missing or
/// wrong term (errors of order 1e-1) fails.
struct GradientCheck {
    struct Result: CustomStringConvertible {
        let tensor: String
        let maxDifference: Double
        let largestGradient: Double
        let skipped: Int
        var relativeError: Double { maxDifference / max(largestGradient, 1e-12) }
        var description: String {
            "\(tensor): max |analytic − numeric| = \(maxDifference), largest |gradient| = \(largestGradient), relative \(relativeError), skipped \(skipped) at kinks"
        }
    }

    var eps: Float = 1e-2
    var training = true
    /// Called before every forward, e.g. to replay a dropout mask.
    var prepare: () -> Void = {}
    /// The layer's activation pattern after a forward: a coordinate whose ±eps forwards change
    /// the pattern straddles a kink and is skipped. Layers with ReLUs set it (the residual
    /// block's test does); a pattern that comes back empty (ReLU keeps none after an
    /// evaluation-mode forward) would skip nothing, so it is recorded as a test failure.
    var pattern: (() -> [Bool])?

    func run(_ layer: any Layer, input: Tensor, seed: UInt64 = 7) -> [Result] {
        prepare()
        let y = layer.forward(input, training: training)
        let basePattern = pattern?()
        if let basePattern, basePattern.isEmpty {
            Issue.record("the activation pattern is empty (training: \(training)): kinks would go undetected")
        }
        var generator = SeededGenerator(seed: seed)
        let weights = Tensor(shape: y.shape, data: (0..<y.count).map { _ in Float(generator.nextGaussian()) })
        for p in layer.parameters { p.zeroGradient() }
        let inputGradient = layer.backward(weights)

        func loss(_ x: Tensor) -> (Double, [Bool]?) {
            prepare()
            let out = layer.forward(x, training: training)
            var sum = 0.0
            for i in 0..<out.count { sum += Double(out.data[i]) * Double(weights.data[i]) }
            return (sum, pattern?())
        }
        /// Compares `analytic` with differences of L in each element that `perturb` moves.
        func compare(_ name: String, analytic: [Float], count: Int,
                     perturb: (Int, Float) -> Float, evaluate: () -> (Double, [Bool]?)) -> Result {
            var maxDifference = 0.0, skipped = 0
            for i in 0..<count {
                let plus = perturb(i, eps)
                let (up, upPattern) = evaluate()
                let minus = perturb(i, -eps)
                let (down, downPattern) = evaluate()
                _ = perturb(i, 0)
                if let basePattern, upPattern != basePattern || downPattern != basePattern {
                    skipped += 1
                    continue
                }
                let numeric = (up - down) / (Double(plus) - Double(minus))
                maxDifference = max(maxDifference, abs(numeric - Double(analytic[i])))
            }
            let largest = analytic.map { abs(Double($0)) }.max() ?? 0
            return Result(tensor: name, maxDifference: maxDifference, largestGradient: largest, skipped: skipped)
        }

        var results: [Result] = []
        var x = input
        let original = input.data
        results.append(compare("input", analytic: inputGradient.data, count: x.count, perturb: { i, step in
            x.data[i] = original[i] + step
            return x.data[i] - original[i]
        }, evaluate: { loss(x) }))
        for p in layer.parameters {
            let analytic = p.gradient.data
            let values = p.value.data
            results.append(compare(p.name, analytic: analytic, count: values.count, perturb: { i, step in
                p.value.data[i] = values[i] + step
                return p.value.data[i] - values[i]
            }, evaluate: { loss(input) }))
        }
        return results
    }
}

/// A tensor of standard normal samples.
func randomTensor(_ shape: [Int], seed: UInt64, scale: Float = 1) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextGaussian()) * scale })
}

/// max |a − b| / max |b|: how far a fast path's logits are from the reference's, relative to
/// the largest reference logit.
func relativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
    let largest = b.data.map { abs(Double($0)) }.max() ?? 0
    let difference = zip(a.data, b.data).map { abs(Double($0) - Double($1)) }.max() ?? 0
    return difference / max(largest, 1e-12)
}
