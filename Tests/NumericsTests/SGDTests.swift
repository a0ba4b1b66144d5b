import Testing
@testable import Numerics

/// Two steps on θ₀ = [1, −2] with constant gradient g = [0.5, 0.25] against the closed forms
/// (η = 0.1, μ = 0.9, λ = 0.01); tolerance 1e-6.
@Suite struct SGDTests {
    static let theta0: [Float] = [1, -2]
    static let g: [Float] = [0.5, 0.25]

    static func run(_ sgd: SGD, decays: Bool = true, steps: Int = 2) -> [Float] {
        let p = Parameter(name: "w", value: Tensor(shape: [2], data: theta0), decays: decays)
        for _ in 0..<steps {
            p.gradient.data = g
            sgd.step([p])
            sgd.zeroGradients([p])
            #expect(p.gradient.data == [0, 0])
        }
        return p.value.data
    }

    /// Double closed form of PyTorch's SGD for the same two steps.
    static func expected(lr: Double, momentum: Double, nesterov: Bool, decay: Double) -> [Double] {
        (0..<2).map { i in
            var theta = Double(theta0[i]), v = 0.0
            for _ in 0..<2 {
                let grad = Double(g[i]) + decay * theta
                v = momentum * v + grad
                theta -= lr * (nesterov ? grad + momentum * v : v)
            }
            return theta
        }
    }

    @Test func plainStepIsGradientDescent() throws {
        let result = Self.run(try SGD(learningRate: 0.1))
        let expected: [Double] = [1 - 2 * 0.05, -2 - 2 * 0.025]
        #expect(maxAbsDifference(result, expected) < 1e-6, "\(result)")
    }

    @Test func momentumMatchesTheClosedForm() throws {
        // By hand: v₁ = g, v₂ = 1.9 g, so θ₂ = θ₀ − 0.1·2.9·g.
        let result = Self.run(try SGD(learningRate: 0.1, momentum: 0.9))
        let expected: [Double] = [1 - 0.29 * 0.5, -2 - 0.29 * 0.25]
        #expect(maxAbsDifference(result, expected) < 1e-6, "\(result)")
    }

    @Test func nesterovMatchesTheClosedForm() throws {
        // By hand: steps g + 0.9·g and g + 0.9·1.9·g, so θ₂ = θ₀ − 0.1·(1.9 + 2.71)·g.
        let result = Self.run(try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true))
        let expected: [Double] = [1 - 0.461 * 0.5, -2 - 0.461 * 0.25]
        #expect(maxAbsDifference(result, expected) < 1e-6, "\(result)")
    }

    @Test func weightDecayAppliesOnlyToDecayingParameters() throws {
        let decayed = Self.run(try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true, weightDecay: 0.01))
        let expected = Self.expected(lr: 0.1, momentum: 0.9, nesterov: true, decay: 0.01)
        #expect(maxAbsDifference(decayed, expected) < 1e-6, "\(decayed) vs \(expected)")
        let exempt = Self.run(try SGD(learningRate: 0.1, momentum: 0.9, weightDecay: 0.01), decays: false)
        #expect(maxAbsDifference(exempt, Self.expected(lr: 0.1, momentum: 0.9, nesterov: false, decay: 0)) < 1e-6)
    }

    @Test func fixedHeadAlphaIsDecayed() throws {
        let head = try makeHead(HeadSpec(kind: .hadamard, features: 8, classes: 3, alpha: 2, bias: false))
        let sgd = try SGD(learningRate: 0.5, weightDecay: 0.1)
        sgd.step(head.parameters)
        let expected: Float = 2 - 0.5 * 0.1 * 2
        let alpha = head.parameters[0].value.data[0]
        #expect(abs(alpha - expected) < 1e-6, "α = \(alpha), expected \(expected)")
    }

    @Test func badHyperparametersAreRefused() {
        #expect(throws: NumericsError.self) { try SGD(learningRate: -1) }
        #expect(throws: NumericsError.self) { try SGD(learningRate: 0.1, momentum: 1) }
        #expect(throws: NumericsError.self) { try SGD(learningRate: 0.1, weightDecay: .infinity) }
    }
}
