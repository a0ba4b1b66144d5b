import Testing
@testable import Numerics

/// Whole networks with each real head, trained with the real loss and optimiser, fit small
/// separable problems to 100% train accuracy.
@Suite struct NetworkHeadTrainingTests {
    private func fit(_ network: Network, inputs: Tensor, labels: [Int], steps: Int, rate: Float) throws -> (first: Float, last: Float) {
        let sgd = try SGD(learningRate: rate, momentum: 0.9, nesterov: true, weightDecay: 1e-4)
        var first: Float = 0, last: Float = 0
        for step in 0..<steps {
            network.zeroGradients()
            let (loss, gradient) = try SoftmaxCrossEntropy.lossAndGradient(
                logits: try network.forward(inputs, training: true), labels: labels)
            if step == 0 { first = loss }
            last = loss
            _ = network.backward(gradient)
            sgd.step(network.parameters)
        }
        return (first, last)
    }

    private func spec(_ kind: HeadKind, features: Int, classes: Int) -> HeadSpec {
        HeadSpec(kind: kind, features: features, classes: classes, alpha: 5, alphaLearned: true, bias: true, seed: 3)
    }

    @Test(arguments: HeadKind.allCases)
    func mlpFitsClustersWithEachHead(_ kind: HeadKind) throws {
        let (inputs, labels) = TestNetworks.clusters(count: 64, dimensions: 12, seed: 41)
        let specs: [LayerSpec] = [.linear(inFeatures: 12, outFeatures: 32, bias: true), .relu,
                                  .linear(inFeatures: 32, outFeatures: 16, bias: true)]
        let network = try Network(backbone: specs, inputShape: [12], head: try makeHead(spec(kind, features: 16, classes: 4)), seed: 42)
        let (first, last) = try fit(network, inputs: inputs, labels: labels, steps: 80, rate: 0.05)
        #expect(last < first * 0.5, "\(kind): loss \(first) → \(last)")
        let accuracy = try SoftmaxCrossEntropy.accuracy(logits: try network.forward(inputs, training: false), labels: labels)
        #expect(accuracy == 1, "\(kind): train accuracy \(accuracy)")
    }

    @Test(arguments: HeadKind.allCases)
    func smallCNNFitsBarImagesWithEachHead(_ kind: HeadKind) throws {
        let (inputs, labels) = TestNetworks.barImages(count: 32, seed: 51)
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 8, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(channels: 8, epsilon: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2),
            .residual(inChannels: 8, outChannels: 16, stride: 2), .globalAveragePool,
        ]
        let network = try Network(backbone: specs, inputShape: [1, 8, 8], head: try makeHead(spec(kind, features: 16, classes: 4)), seed: 52)
        let (first, last) = try fit(network, inputs: inputs, labels: labels, steps: 60, rate: 0.05)
        #expect(last < first * 0.5, "\(kind): loss \(first) → \(last)")
        for _ in 0..<30 { _ = try network.forward(inputs, training: true) }
        let engine = try InferenceEngine(network: network, maxBatchSize: 32)
        let accuracy = try SoftmaxCrossEntropy.accuracy(logits: try engine.logits(for: inputs), labels: labels)
        #expect(accuracy == 1, "\(kind): train accuracy \(accuracy)")
    }
}
