import Testing
@testable import Numerics

/// The optimiser's and the network's random state saved mid-training and put into a fresh
/// network and optimiser: the steps after that are the steps the original takes, bit for bit.
@Suite struct TrainingStateTests {
    static let specs: [LayerSpec] = [
        .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: false),
        .batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 0.1), .relu, .dropout(probability: 0.3),
        .flatten, .linear(inFeatures: 4 * 8 * 8, outFeatures: 16, bias: true), .relu, .dropout(probability: 0.2),
    ]

    static func optimiser() throws -> SGD {
        try SGD(learningRate: 0.05, momentum: 0.9, nesterov: true, weightDecay: 5e-4)
    }

    /// `steps` SGD steps on the bar images, batch `step % 4` of 8 images each.
    static func train(_ network: Network, _ sgd: SGD, steps: Range<Int>) throws {
        let (inputs, labels) = TestNetworks.barImages(count: 32, seed: 3)
        let sample = 64
        for step in steps {
            let rows = (step % 4) * 8..<(step % 4) * 8 + 8
            let batch = Tensor(shape: [8, 1, 8, 8], data: Array(inputs.data[rows.lowerBound * sample..<rows.upperBound * sample]))
            network.zeroGradients()
            let logits = try network.forward(batch, training: true)
            let (_, gradient) = try SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: Array(labels[rows]))
            _ = network.backward(gradient)
            sgd.step(network.parameters)
        }
    }

    static func bits(_ network: Network) -> [String: [UInt32]] {
        Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor.data.map(\.bitPattern)) })
    }

    @Test func aRestoredRunTakesTheSameStepsBitForBit() throws {
        let original = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4, seed: 1)
        let originalSGD = try Self.optimiser()
        try Self.train(original, originalSGD, steps: 0..<5)

        let tensors = Dictionary(uniqueKeysWithValues: original.namedTensors().map { ($0.name, $0.tensor) })
        let velocities = originalSGD.velocities(of: original.parameters)
        let generators = original.dropoutGenerators.map(\.state)
        #expect(velocities.allSatisfy { $0 != nil } && generators.count == 2)

        // Another seed: every weight and mask stream differs until the state is restored.
        let restored = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4, seed: 2)
        let restoredSGD = try Self.optimiser()
        try restored.load(namedTensors: tensors)
        try restoredSGD.restoreVelocities(velocities, of: restored.parameters)
        try restored.restoreDropoutGenerators(generators.map { try SeededGenerator(state: $0) })

        try Self.train(original, originalSGD, steps: 5..<11)
        try Self.train(restored, restoredSGD, steps: 5..<11)
        let expected = Self.bits(original), actual = Self.bits(restored)
        #expect(expected.keys.sorted() == actual.keys.sorted())
        for name in expected.keys.sorted() {
            #expect(expected[name] == actual[name], "\(name) differs after the restored steps")
        }
    }

    @Test func withoutTheVelocitiesOrTheMasksTheStepsDiffer() throws {
        let original = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4, seed: 1)
        let sgd = try Self.optimiser()
        try Self.train(original, sgd, steps: 0..<5)
        let tensors = Dictionary(uniqueKeysWithValues: original.namedTensors().map { ($0.name, $0.tensor) })
        let generators = original.dropoutGenerators.map(\.state)

        let noVelocity = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4, seed: 1)
        try noVelocity.load(namedTensors: tensors)
        try noVelocity.restoreDropoutGenerators(generators.map { try SeededGenerator(state: $0) })
        let noMasks = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4, seed: 2)
        let noMasksSGD = try Self.optimiser()
        try noMasks.load(namedTensors: tensors)
        try noMasksSGD.restoreVelocities(sgd.velocities(of: original.parameters), of: noMasks.parameters)

        try Self.train(original, sgd, steps: 5..<7)
        try Self.train(noVelocity, try Self.optimiser(), steps: 5..<7)
        try Self.train(noMasks, noMasksSGD, steps: 5..<7)
        #expect(Self.bits(noVelocity) != Self.bits(original))
        #expect(Self.bits(noMasks) != Self.bits(original))
    }

    @Test func velocitiesAreNilBeforeTheFirstStepAndRestoreChecksTheirShapes() throws {
        let network = try TestNetworks.make(Self.specs, inputShape: [1, 8, 8], classes: 4)
        let sgd = try Self.optimiser()
        let parameters = network.parameters
        #expect(sgd.velocities(of: parameters).allSatisfy { $0 == nil })
        #expect(throws: NumericsError.self) { try sgd.restoreVelocities([nil], of: parameters) }
        var wrong: [[Float]?] = parameters.map { [Float](repeating: 0, count: $0.value.count) }
        wrong[1] = [1, 2, 3]
        #expect(throws: NumericsError.self) { try sgd.restoreVelocities(wrong, of: parameters) }
        #expect(sgd.velocities(of: parameters).allSatisfy { $0 == nil }, "a refused restore changed the optimiser")
        #expect(throws: NumericsError.self) { try network.restoreDropoutGenerators([]) }
    }

    @Test func aGeneratorContinuesFromItsSavedState() throws {
        var generator = SeededGenerator(seed: 42)
        for _ in 0..<17 { _ = generator.next() }
        var copy = try SeededGenerator(state: generator.state)
        #expect((0..<100).map { _ in generator.next() } == (0..<100).map { _ in copy.next() })
        #expect(throws: NumericsError.self) { try SeededGenerator(state: [0, 0, 0, 0]) }
        #expect(throws: NumericsError.self) { try SeededGenerator(state: [1, 2, 3]) }
    }
}
