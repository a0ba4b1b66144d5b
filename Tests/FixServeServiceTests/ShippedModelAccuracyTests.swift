import Datasets
import FixServeService
import Foundation
import ModelStore
import Numerics
import Testing

/// The engine's kernels (channels-last direct and Winograd convolutions, packed dense products,
/// several workers) against the layers' reference path on the shipped models and all 10,000
/// Fashion-MNIST test images: the same top-1 class for every image (but where the reference's
/// two best logits are closer than the stated tolerance), logits within 1e-4 of the largest, and
/// the test accuracy the model card states.
@Suite struct ShippedModelAccuracyTests {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("models")

    @Test(arguments: ["fashion-mnist", "fashion-mnist-orthonormal", "fashion-mnist-learned"])
    func engineKeepsTheModelCardsAccuracy(model: String) throws {
        let folder = Self.repository.appendingPathComponent(model)
        let version = try #require(try StoredModel.existingVersions(in: folder).max())
        let stored = try StoredModel.load(from: folder.appendingPathComponent(String(version)))
        let network = try stored.makeNetwork()
        let test = try BuiltinDataset.fashionMNIST.load(.test)
        let normalization = try Normalization(mean: stored.manifest.input.mean, std: stored.manifest.input.std)
        let engine = try InferenceEngine(network: network, maxBatchSize: 100, workers: 2)
        var batches = try BatchIterator(dataset: test, batchSize: 100, normalization: normalization, shuffle: false, seed: 0)
        var correct = 0, disagreements = 0, worst = 0.0
        while let (input, labels) = batches.next() {
            let fast = try engine.logits(for: input), reference = try network.forward(input, training: false)
            let classes = fast.shape[1]
            for row in 0..<labels.count {
                let a = Array(fast.data[(row * classes)..<((row + 1) * classes)])
                let b = Array(reference.data[(row * classes)..<((row + 1) * classes)])
                let largest = b.map { abs(Double($0)) }.max()!
                worst = max(worst, zip(a, b).map { abs(Double($0) - Double($1)) }.max()! / largest)
                let top = a.indices.max { a[$0] < a[$1] }!, expected = b.indices.max { b[$0] < b[$1] }!
                let sorted = b.sorted(by: >)
                if top != expected && Double(sorted[0] - sorted[1]) > 1e-4 * largest { disagreements += 1 }
                if top == labels[row] { correct += 1 }
            }
        }
        #expect(worst <= 1e-4, "\(model): max relative logit difference \(worst)")
        #expect(disagreements == 0, "\(model): \(disagreements) images change their top class")
        let history = try JSONSerialization.jsonObject(
            with: Data(contentsOf: folder.appendingPathComponent("\(version)/history.json"))) as! [[String: Any]]
        let stated = try #require(history.last?["test_accuracy"] as? Double)
        #expect(abs(Double(correct) / 10_000 - stated) < 0.5e-4, "\(model): \(correct) of 10,000 against the card's \(stated)")
    }
}
