import Foundation
import Testing
@testable import Numerics

/// Analytic gradients of every head against central differences of the Float64 reference, with
/// L = Σ y·R for a random R, so dL/dy = R. Tolerance 1e-4 absolute on gradients of order one
/// (Float rounding is about 1e-6; step h = 1e-5 in Double).
@Suite struct HeadGradientTests {
    static let tolerance = 1e-4
    static let h = 1e-5

    struct Case: CustomStringConvertible, Sendable {
        var kind: HeadKind
        var features: Int
        var classes: Int
        var alphaLearned = true
        var bias = true
        var skipAllOnesRow = true
        var description: String {
            "\(kind) N=\(features) C=\(classes) α\(alphaLearned ? "" : " fixed") b\(bias ? "" : " absent") skip=\(skipAllOnesRow)"
        }
    }

    static let cases: [Case] = [
        Case(kind: .learned, features: 12, classes: 5),
        Case(kind: .learned, features: 16, classes: 10, bias: false),
        Case(kind: .orthonormal, features: 12, classes: 5),
        Case(kind: .orthonormal, features: 16, classes: 10),
        Case(kind: .orthonormal, features: 16, classes: 10, alphaLearned: false, bias: false),
        Case(kind: .hadamard, features: 12, classes: 5, skipAllOnesRow: true),
        Case(kind: .hadamard, features: 12, classes: 5, skipAllOnesRow: false),
        Case(kind: .hadamard, features: 16, classes: 10, skipAllOnesRow: true),
        Case(kind: .hadamard, features: 16, classes: 10, skipAllOnesRow: false),
        Case(kind: .hadamard, features: 16, classes: 10, alphaLearned: false, bias: false),
    ]

    @Test(arguments: cases)
    func gradientsMatchFiniteDifferences(_ testCase: Case) throws {
        let spec = HeadSpec(
            kind: testCase.kind, features: testCase.features, classes: testCase.classes, alpha: 1.7,
            alphaLearned: testCase.alphaLearned, bias: testCase.bias, seed: 42, skipAllOnesRow: testCase.skipAllOnesRow)
        let head = try makeHead(spec)
        let (batch, n, c) = (3, testCase.features, testCase.classes)
        var data = TestData(seed: 7)
        // Give b a non-zero value so it matters in the forward pass.
        for parameter in head.parameters where parameter.name == "bias" {
            parameter.value.data = data.gaussian(c)
        }
        let x = data.gaussian(batch * n)
        let r = data.gaussian(batch * c).map(Double.init)

        let y = head.forward(Tensor(shape: [batch, n], data: x), training: true)
        let gx = head.backward(Tensor(shape: [batch, c], data: r.map(Float.init)))

        let reference = try Self.reference(for: head)
        let forwardDifference = maxAbsDifference(y.data, reference.logits(x.map(Double.init)))
        #expect(forwardDifference < 1e-5, "forward differs from the Float64 reference by \(forwardDifference)")

        func loss(_ ref: HeadReference, _ x: [Double]) -> Double { zip(ref.logits(x), r).reduce(0) { $0 + $1.0 * $1.1 } }
        let x64 = x.map(Double.init)

        let inputNumeric = x64.indices.map { i -> Double in
            var plus = x64, minus = x64
            plus[i] += Self.h; minus[i] -= Self.h
            return (loss(reference, plus) - loss(reference, minus)) / (2 * Self.h)
        }
        let inputDifference = maxAbsDifference(gx.data, inputNumeric)
        #expect(inputDifference < Self.tolerance, "dL/dx differs by \(inputDifference) for \(testCase)")

        for parameter in head.parameters {
            let numeric = parameter.value.data.indices.map { i -> Double in
                func perturbed(_ delta: Double) -> Double {
                    var ref = reference
                    switch parameter.name {
                    case "alpha": ref.alpha += delta
                    case "bias": ref.bias[i] += delta
                    default: ref.matrix[i / n][i % n] += delta
                    }
                    return loss(ref, x64)
                }
                return (perturbed(Self.h) - perturbed(-Self.h)) / (2 * Self.h)
            }
            let difference = maxAbsDifference(parameter.gradient.data, numeric)
            #expect(difference < Self.tolerance, "dL/d\(parameter.name) differs by \(difference) for \(testCase)")
        }
    }

    /// The Float64 reference of `head` from its current parameters and its dense matrix.
    static func reference(for head: any ClassificationHead) throws -> HeadReference {
        let spec = head.spec
        let bias = head.parameters.first { $0.name == "bias" }?.value.data.map(Double.init)
            ?? [Double](repeating: 0, count: spec.classes)
        let alpha = Double(head.parameters.first { $0.name == "alpha" }?.value.data[0] ?? spec.alpha)
        let matrix: [[Double]]
        switch spec.kind {
        case .learned:
            let w = try #require(head.parameters.first { $0.name == "weight" }).value.data
            matrix = (0..<spec.classes).map { c in (0..<spec.features).map { Double(w[c * spec.features + $0]) } }
            return HeadReference(form: .learned, features: spec.features, classes: spec.classes, matrix: matrix, alpha: 1, bias: bias)
        case .orthonormal:
            let q = try #require(head as? OrthonormalHead).q.data
            matrix = (0..<spec.features).map { j in (0..<spec.classes).map { Double(q[j * spec.classes + $0]) } }
        case .hadamard:
            matrix = HeadReference.hadamard(features: spec.features, classes: spec.classes, firstRow: spec.skipAllOnesRow ? 1 : 0)
        }
        return HeadReference(form: .fixed, features: spec.features, classes: spec.classes, matrix: matrix, alpha: alpha, bias: bias)
    }
}
