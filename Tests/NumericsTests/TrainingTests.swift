import Foundation
import Testing
@testable import Numerics

/// End-to-end: small networks with the test head fit small separable problems, trained with a
/// plain SGD step and a softmax cross-entropy written here (the real ones live elsewhere).
@Suite struct TrainingTests {
    /// Mean softmax cross-entropy over the batch and its gradient with respect to the logits.
    static func crossEntropy(_ logits: Tensor, labels: [Int]) -> (loss: Double, gradient: Tensor) {
        let (batch, classes) = (logits.shape[0], logits.shape[1])
        var gradient = Tensor(shape: logits.shape)
        var loss = 0.0
        for r in 0..<batch {
            let row = (0..<classes).map { Double(logits.data[r * classes + $0]) }
            let top = row.max()!
            let exps = row.map { Foundation.exp($0 - top) }
            let total = exps.reduce(0, +)
            loss -= Foundation.log(exps[labels[r]] / total)
            for c in 0..<classes {
                gradient.data[r * classes + c] = Float((exps[c] / total - (c == labels[r] ? 1 : 0)) / Double(batch))
            }
        }
        return (loss / Double(batch), gradient)
    }

    static func accuracy(_ logits: Tensor, labels: [Int]) -> Double {
        let classes = logits.shape[1]
        let correct = labels.indices.filter { r in
            let row = logits.data[(r * classes)..<((r + 1) * classes)]
            return row.firstIndex(of: row.max()!)! - r * classes == labels[r]
        }.count
        return Double(correct) / Double(labels.count)
    }

    /// Full-batch SGD with momentum-free steps of `rate`; returns the first and last loss.
    static func train(_ network: Network, inputs: Tensor, labels: [Int], steps: Int, rate: Float) throws -> (Double, Double) {
        var first = 0.0, last = 0.0
        for step in 0..<steps {
            network.zeroGradients()
            let (loss, gradient) = crossEntropy(try network.forward(inputs, training: true), labels: labels)
            if step == 0 { first = loss }
            last = loss
            _ = network.backward(gradient)
            for p in network.parameters {
                p.value.data.withUnsafeMutableBufferPointer { v in
                    p.gradient.data.withUnsafeBufferPointer { g in
                        for i in 0..<v.count { v[i] -= rate * g[i] }
                    }
                }
            }
        }
        return (first, last)
    }

    @Test func mlpFitsSeparableClusters() throws {
        let (inputs, labels) = TestNetworks.clusters(count: 64, dimensions: 12, seed: 11)
        let specs: [LayerSpec] = [.linear(inFeatures: 12, outFeatures: 32, bias: true), .relu,
                                  .dropout(probability: 0.1), .linear(inFeatures: 32, outFeatures: 16, bias: true), .relu]
        let head = DenseTestHead(features: 16, classes: 4, normalizes: false, seed: 12)
        let network = try Network(backbone: specs, inputShape: [12], head: head, seed: 13)
        let (first, last) = try Self.train(network, inputs: inputs, labels: labels, steps: 60, rate: 0.05)
        #expect(last < first * 0.2, "loss \(first) → \(last)")
        let accuracy = Self.accuracy(try network.forward(inputs, training: false), labels: labels)
        #expect(accuracy == 1, "train accuracy \(accuracy)")
    }

    @Test func smallCNNFitsBarImages() throws {
        let (inputs, labels) = TestNetworks.barImages(count: 32, seed: 21)
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2),
            .residual(inChannels: 4, outChannels: 8, stride: 2), .flatten,
        ]
        let head = DenseTestHead(features: 32, classes: 4, normalizes: true, seed: 22)
        let network = try Network(backbone: specs, inputShape: [1, 8, 8], head: head, seed: 23)
        let (first, last) = try Self.train(network, inputs: inputs, labels: labels, steps: 40, rate: 0.1)
        #expect(last < first * 0.2, "loss \(first) → \(last)")
        // Settle the running statistics on the training set before evaluating with them.
        for _ in 0..<30 { _ = try network.forward(inputs, training: true) }
        let accuracy = Self.accuracy(try network.forward(inputs, training: false), labels: labels)
        #expect(accuracy == 1, "train accuracy \(accuracy)")
        let engineAccuracy = Self.accuracy(try InferenceEngine(network: network, maxBatchSize: 32).logits(for: inputs), labels: labels)
        #expect(engineAccuracy == 1, "engine accuracy \(engineAccuracy)")
    }
}
