import Testing
@testable import Numerics

/// Each head alone, trained by SGD on raw feature vectors of four Gaussian clusters in N = 16,
/// must reach 100% training accuracy within a bounded number of full-batch steps.
@Suite struct HeadTrainingTests {
    static let (features, classes, perClass) = (16, 4, 25)

    /// Clusters around `means` ([C][N]) with per-coordinate noise σ = 0.3; labels in order.
    static func clusters(means: [[Float]], data: inout TestData) -> (Tensor, [Int]) {
        var x: [Float] = []
        var labels: [Int] = []
        for c in 0..<classes {
            for _ in 0..<perClass {
                x += zip(means[c], data.gaussian(features)).map { $0 + 0.3 * $1 }
                labels.append(c)
            }
        }
        return (Tensor(shape: [classes * perClass, features], data: x), labels)
    }

    /// Runs at most `steps` full-batch steps; returns (initial accuracy, final accuracy, initial loss, final loss).
    static func train(_ head: any ClassificationHead, _ x: Tensor, _ labels: [Int], steps: Int) throws -> (Float, Float, Float, Float) {
        let sgd = try SGD(learningRate: 0.5, momentum: 0.9, weightDecay: 1e-4)
        let initial = head.forward(x, training: false)
        let initialAccuracy = try SoftmaxCrossEntropy.accuracy(logits: initial, labels: labels)
        let initialLoss = try SoftmaxCrossEntropy.loss(logits: initial, labels: labels)
        for _ in 0..<steps {
            let logits = head.forward(x, training: true)
            let (_, gradient) = try SoftmaxCrossEntropy.lossAndGradient(logits: logits, labels: labels)
            sgd.zeroGradients(head.parameters)
            _ = head.backward(gradient)
            sgd.step(head.parameters)
        }
        let final = head.forward(x, training: false)
        return (initialAccuracy, try SoftmaxCrossEntropy.accuracy(logits: final, labels: labels),
                initialLoss, try SoftmaxCrossEntropy.loss(logits: final, labels: labels))
    }

    @Test func learnedHeadSeparatesRandomClusters() throws {
        var data = TestData(seed: 31)
        let means = (0..<Self.classes).map { _ in data.gaussian(Self.features) }
        let (x, labels) = Self.clusters(means: means, data: &data)
        let head = try makeHead(HeadSpec(kind: .learned, features: Self.features, classes: Self.classes, seed: 1))
        let (_, accuracy, initialLoss, loss) = try Self.train(head, x, labels, steps: 200)
        #expect(accuracy == 1, "train accuracy \(accuracy), loss \(initialLoss) → \(loss)")
    }

    /// The clusters sit on the heads' class directions (as a trained backbone would put them),
    /// but b starts strongly biased towards class 0, so only training α and b fixes the ranking.
    @Test(arguments: [HeadKind.orthonormal, .hadamard])
    func fixedHeadLearnsAlphaAndBias(_ kind: HeadKind) throws {
        let spec = HeadSpec(kind: kind, features: Self.features, classes: Self.classes, seed: 4)
        let m = try fixedHeadMatrix(spec)
        let means = (0..<Self.classes).map { c -> [Float] in
            let column = (0..<Self.features).map { m.data[$0 * Self.classes + c] }
            let norm = column.reduce(0) { $0 + $1 * $1 }.squareRoot()
            return column.map { 3 * $0 / norm }
        }
        var data = TestData(seed: 32)
        let (x, labels) = Self.clusters(means: means, data: &data)
        let head = try makeHead(spec)
        head.parameters.first { $0.name == "bias" }!.value.data = [4, 0, 0, 0]
        let (initialAccuracy, accuracy, initialLoss, loss) = try Self.train(head, x, labels, steps: 300)
        #expect(initialAccuracy <= 0.5, "the biased start should misclassify, got \(initialAccuracy)")
        #expect(accuracy == 1, "\(kind): train accuracy \(accuracy), loss \(initialLoss) → \(loss)")
        #expect(loss < initialLoss / 4, "\(kind): loss \(initialLoss) → \(loss)")
    }
}
