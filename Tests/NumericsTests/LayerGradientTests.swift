import Testing
@testable import Numerics

/// Every layer's backward pass against central finite differences (see `GradientCheck` for the
/// tolerance and why).
@Suite struct LayerGradientTests {
    static let tolerance = 2e-3

    private func expectGradientsMatch(_ results: [GradientCheck.Result], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!results.isEmpty, sourceLocation: sourceLocation)
        for r in results {
            #expect(r.largestGradient > 0, "\(r)", sourceLocation: sourceLocation)
            #expect(r.relativeError <= Self.tolerance, "\(r)", sourceLocation: sourceLocation)
        }
    }

    /// Values whose magnitudes stay at least `margin` away from zero.
    private func awayFromZero(_ shape: [Int], seed: UInt64, margin: Float = 0.1) -> Tensor {
        var t = randomTensor(shape, seed: seed)
        for i in t.data.indices { t.data[i] += t.data[i] < 0 ? -margin : margin }
        return t
    }

    @Test func linearGradientsMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 1)
        let layer = Linear(inFeatures: 5, outFeatures: 4, bias: true, generator: &generator)
        layer.bias!.value = randomTensor([4], seed: 2)
        let results = GradientCheck().run(layer, input: randomTensor([3, 5], seed: 3))
        #expect(results.map(\.tensor) == ["input", "weight", "bias"])
        expectGradientsMatch(results)
    }

    @Test(arguments: [(stride: 1, padding: 1), (stride: 2, padding: 1), (stride: 2, padding: 0)])
    func conv2dGradientsMatchFiniteDifferences(stride: Int, padding: Int) {
        var generator = SeededGenerator(seed: 4)
        let layer = Conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: stride, padding: padding, bias: true,
                           generator: &generator)
        layer.bias!.value = randomTensor([4], seed: 5)
        let results = GradientCheck().run(layer, input: randomTensor([2, 3, 6, 5], seed: 6))
        #expect(results.map(\.tensor) == ["input", "weight", "bias"])
        expectGradientsMatch(results)
    }

    @Test func pointwiseConv2dGradientsMatchFiniteDifferences() {
        var generator = SeededGenerator(seed: 7)
        let layer = Conv2d(inChannels: 3, outChannels: 2, kernel: 1, bias: false, generator: &generator)
        expectGradientsMatch(GradientCheck().run(layer, input: randomTensor([2, 3, 4, 4], seed: 8)))
    }

    @Test func batchNormTrainingGradientsMatchFiniteDifferences() {
        let layer = BatchNorm2d(channels: 3)
        layer.weight.value = Tensor(shape: [3], data: [1.5, -0.7, 0.9])
        layer.bias.value = Tensor(shape: [3], data: [0.2, -0.1, 0.4])
        var input = randomTensor([4, 3, 3, 3], seed: 9)
        for i in input.data.indices { input.data[i] = input.data[i] * 2 + 1 }
        let results = GradientCheck().run(layer, input: input)
        #expect(results.map(\.tensor) == ["input", "weight", "bias"])
        expectGradientsMatch(results)
    }

    @Test func batchNormEvaluationGradientMatchesFiniteDifferences() throws {
        let layer = BatchNorm2d(channels: 2)
        try layer.setBuffer("running_mean", to: Tensor(shape: [2], data: [0.5, -1]))
        try layer.setBuffer("running_var", to: Tensor(shape: [2], data: [2, 0.25]))
        var check = GradientCheck()
        check.training = false
        let results = check.run(layer, input: randomTensor([2, 2, 3, 3], seed: 10))
        expectGradientsMatch([results[0]])
    }

    @Test func reluGradientMatchesFiniteDifferences() {
        expectGradientsMatch(GradientCheck().run(ReLU(), input: awayFromZero([2, 3, 4, 4], seed: 11)))
    }

    @Test func maxPoolGradientMatchesFiniteDifferences() {
        // Distinct values 0.05 apart: no ±eps step changes which element is the maximum.
        let count = 2 * 2 * 5 * 5
        var generator = SeededGenerator(seed: 12)
        let values = (0..<count).map { Float($0) * 0.05 - 1 }.shuffled(using: &generator)
        let input = Tensor(shape: [2, 2, 5, 5], data: values)
        expectGradientsMatch(GradientCheck().run(MaxPool2d(kernel: 2, stride: 2), input: input))
        expectGradientsMatch(GradientCheck().run(MaxPool2d(kernel: 3, stride: 1), input: input))
    }

    @Test func globalAveragePoolGradientMatchesFiniteDifferences() {
        expectGradientsMatch(GradientCheck().run(GlobalAveragePool(), input: randomTensor([2, 3, 4, 3], seed: 13)))
    }

    @Test func flattenGradientMatchesFiniteDifferences() {
        let layer = Flatten()
        #expect(layer.forward(randomTensor([2, 3, 2, 2], seed: 14), training: true).shape == [2, 12])
        expectGradientsMatch(GradientCheck().run(layer, input: randomTensor([2, 3, 2, 2], seed: 14)))
    }

    @Test func dropoutGradientWithFixedMaskMatchesFiniteDifferences() {
        let layer = Dropout(probability: 0.4, generator: SeededGenerator(seed: 15))
        let saved = layer.generator
        var check = GradientCheck()
        check.prepare = { layer.generator = saved }
        let input = randomTensor([4, 10], seed: 16)
        let y = layer.forward(input, training: true)
        let dropped = y.data.filter { $0 == 0 }.count
        #expect(dropped > 5 && dropped < 30, "a 0.4 mask over 40 elements dropped \(dropped)")
        expectGradientsMatch(check.run(layer, input: input))
        #expect(layer.forward(input, training: false) == input)
    }

    @Test(arguments: [(inChannels: 4, outChannels: 4, stride: 1), (inChannels: 3, outChannels: 4, stride: 2)])
    func residualBlockGradientsMatchFiniteDifferences(inChannels: Int, outChannels: Int, stride: Int) {
        var generator = SeededGenerator(seed: 17)
        let block = ResidualBlock(inChannels: inChannels, outChannels: outChannels, stride: stride, generator: &generator)
        // Non-trivial γ and β so every parameter gradient is exercised.
        for (i, p) in block.parameters.enumerated() where p.name.hasPrefix("bn") || p.name.hasPrefix("shortcut.bn") {
            p.value = randomTensor(p.value.shape, seed: 100 + UInt64(i), scale: 0.3)
            if p.name.hasSuffix("weight") { for j in p.value.data.indices { p.value.data[j] += 1 } }
        }
        var check = GradientCheck()
        check.pattern = { block.activationPattern }
        // A smaller step: each step moves every pre-activation of a channel through the batch
        // statistics, so at eps = 1e-2 one coordinate in seven straddles a ReLU kink. At 1e-3
        // the rounding noise is ~5e-4 relative, still 4× below the tolerance.
        check.eps = 1e-3
        let results = check.run(block, input: randomTensor([2, inChannels, 5, 5], seed: 18))
        let expectedNames = ["input", "conv1.weight", "bn1.weight", "bn1.bias", "conv2.weight", "bn2.weight", "bn2.bias"]
            + (stride == 1 ? [] : ["shortcut.conv.weight", "shortcut.bn.weight", "shortcut.bn.bias"])
        #expect(results.map(\.tensor) == expectedNames)
        // At most 5% of the coordinates may straddle a ReLU kink and be skipped.
        let coordinates = block.parameters.reduce(2 * inChannels * 25) { $0 + $1.value.count }
        let skipped = results.reduce(0) { $0 + $1.skipped }
        #expect(Double(skipped) <= 0.05 * Double(coordinates), "skipped \(skipped) of \(coordinates)")
        expectGradientsMatch(results)
    }

    @Test(arguments: [false, true])
    func testHeadGradientsMatchFiniteDifferences(normalizes: Bool) {
        let head = DenseTestHead(features: 6, classes: 3, normalizes: normalizes, seed: 19)
        head.bias.value = randomTensor([3], seed: 20)
        expectGradientsMatch(GradientCheck().run(head, input: randomTensor([3, 6], seed: 21)))
    }
}
