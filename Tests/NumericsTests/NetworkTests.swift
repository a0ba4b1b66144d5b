import Testing
@testable import Numerics

@Suite struct NetworkTests {
    @Test func namesTensorsByLayerIndexAndPath() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        let names = network.namedTensors().map(\.name)
        for expected in ["backbone.0.weight", "backbone.1.weight", "backbone.1.bias", "backbone.1.running_mean",
                         "backbone.1.running_var", "backbone.4.conv1.weight", "backbone.4.bn2.running_var",
                         "backbone.5.shortcut.conv.weight", "backbone.5.shortcut.bn.weight",
                         "backbone.5.shortcut.bn.running_mean", "backbone.7.bias", "backbone.11.weight",
                         "head.weight", "head.alpha", "head.bias"] {
            #expect(names.contains(expected), "missing \(expected) in \(names)")
        }
        #expect(!names.contains("backbone.0.bias"), "a conv2d without bias stores no bias")
        #expect(!names.contains { $0.hasPrefix("backbone.4.shortcut") }, "an identity shortcut stores nothing")
        #expect(Set(names).count == names.count)
    }

    @Test func countsParametersOfBackboneAndHead() throws {
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
            .batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 0.1), .relu, .globalAveragePool,
            .linear(inFeatures: 4, outFeatures: 6, bias: false),
        ]
        let network = try TestNetworks.make(specs, inputShape: [1, 5, 5], classes: 3)
        #expect(network.parameterCount == .init(backbone: 4 * 9 + 4 + 8 + 24, head: 6 * 3 + 1 + 3))
    }

    @Test func resNet20BackboneHasTheKnownParameterCount() throws {
        var specs: [LayerSpec] = [
            .conv2d(inChannels: 3, outChannels: 16, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(channels: 16, epsilon: 1e-5, momentum: 0.1), .relu,
        ]
        var channels = 16
        for (stage, width) in [16, 32, 64].enumerated() {
            for block in 0..<3 {
                specs.append(.residual(inChannels: channels, outChannels: width, stride: stage > 0 && block == 0 ? 2 : 1))
                channels = width
            }
        }
        specs.append(.globalAveragePool)
        #expect(try LayerSpec.outputShape(of: specs, for: [3, 32, 32]) == [64])
        let head = DenseTestHead(features: 64, classes: 10, normalizes: false, seed: 1)
        let network = try Network(backbone: specs, inputShape: [3, 32, 32], head: head, seed: 1)
        // 269,072 in convolutions and BatchNorms plus 2,752 in the two projection shortcuts;
        // with a 64×10 linear classifier this is the 272,474 usually quoted for ResNet-20.
        #expect(network.parameterCount.backbone == 271_824)
    }

    @Test func loadRestoresEveryTensor() throws {
        let source = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], seed: 3)
        let target = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8], seed: 4)
        let input = randomTensor([2, 3, 8, 8], seed: 5)
        #expect(try source.forward(input, training: false) != target.forward(input, training: false))
        try target.load(namedTensors: Dictionary(uniqueKeysWithValues: source.namedTensors().map { ($0.name, $0.tensor) }))
        #expect(try source.forward(input, training: false) == target.forward(input, training: false))
    }

    private func tensors(of network: Network) -> [String: Tensor] {
        Dictionary(uniqueKeysWithValues: network.namedTensors().map { ($0.name, $0.tensor) })
    }

    @Test func loadRefusesMissingTensorAndChangesNothing() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        let before = network.namedTensors().map(\.tensor)
        var given = tensors(of: network)
        for key in given.keys { given[key]!.data = given[key]!.data.map { $0 + 1 } }
        given["backbone.5.shortcut.bn.running_var"] = nil
        #expect(throws: NumericsError.missingTensor("backbone.5.shortcut.bn.running_var")) {
            try network.load(namedTensors: given)
        }
        #expect(network.namedTensors().map(\.tensor) == before)
    }

    @Test func loadRefusesUnknownTensor() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        var given = tensors(of: network)
        given["backbone.2.weight"] = Tensor(shape: [1])
        #expect(throws: NumericsError.unknownTensor("backbone.2.weight")) { try network.load(namedTensors: given) }
    }

    @Test func loadRefusesWronglyShapedTensor() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        var given = tensors(of: network)
        given["backbone.4.conv2.weight"] = Tensor(shape: [8, 8, 3, 2])
        #expect(throws: NumericsError.shapeMismatch(name: "backbone.4.conv2.weight", expected: [8, 8, 3, 3], actual: [8, 8, 3, 2])) {
            try network.load(namedTensors: given)
        }
    }

    @Test func forwardRejectsWrongInputShape() throws {
        let network = try TestNetworks.make(TestNetworks.everyLayer, inputShape: [3, 8, 8])
        for shape in [[2, 1, 8, 8], [2, 3, 8], [0, 3, 8, 8], [3, 8, 8]] {
            #expect(throws: NumericsError.self) { try network.forward(Tensor(shape: shape), training: false) }
        }
        #expect(try network.forward(Tensor(shape: [2, 3, 8, 8]), training: false).shape == [2, 5])
    }

    @Test func refusesHeadOfTheWrongWidth() throws {
        let head = DenseTestHead(features: 10, classes: 3, normalizes: false, seed: 1)
        #expect(throws: NumericsError.self) {
            try Network(backbone: [.flatten], inputShape: [1, 3, 3], head: head, seed: 1)
        }
        #expect(throws: NumericsError.self) {
            try Network(backbone: [.conv2d(inChannels: 1, outChannels: 10, kernel: 1, stride: 1, padding: 0, bias: true)],
                        inputShape: [1, 1, 1], head: head, seed: 1)
        }
        _ = try Network(backbone: [.flatten], inputShape: [1, 2, 5], head: head, seed: 1)
    }

    @Test func sameSeedBuildsTheSameWeights() throws {
        let head = DenseTestHead(features: 12, classes: 3, normalizes: false, seed: 1)
        let a = try Network(backbone: [.linear(inFeatures: 4, outFeatures: 12, bias: true)], inputShape: [4], head: head, seed: 9)
        let b = try Network(backbone: [.linear(inFeatures: 4, outFeatures: 12, bias: true)], inputShape: [4], head: head, seed: 9)
        let c = try Network(backbone: [.linear(inFeatures: 4, outFeatures: 12, bias: true)], inputShape: [4], head: head, seed: 10)
        #expect(a.namedTensors().map(\.tensor) == b.namedTensors().map(\.tensor))
        #expect(a.namedTensors().map(\.tensor) != c.namedTensors().map(\.tensor))
    }

    @Test func kaimingInitialisationHasVarianceTwoOverFanIn() {
        var generator = SeededGenerator(seed: 3)
        let t = Kaiming.normal(shape: [64, 32, 3, 3], fanIn: 288, generator: &generator)
        let mean = t.data.reduce(0.0) { $0 + Double($1) } / Double(t.count)
        let variance = t.data.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(t.count)
        // 18,432 samples: the sample variance is within ~1% (one standard error) of 2/288.
        #expect(abs(variance * 288 / 2 - 1) < 0.05, "variance \(variance), expected \(2.0 / 288)")
        #expect(abs(mean) < 0.002, "mean \(mean)")
    }
}
