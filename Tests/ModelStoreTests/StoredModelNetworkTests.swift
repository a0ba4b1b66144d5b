import Foundation
import Numerics
import Testing
@testable import ModelStore

/// The store's view of a model (expected tensors, saved files) against the Network's own.
@Suite struct StoredModelNetworkTests {
    /// Manifests covering every layer with parameters and every head configuration.
    static func manifests() -> [ModelManifest] {
        var residual = Fixtures.manifest(head: .learned)
        residual.input = ModelInput(shape: [3, 8, 8], colorMode: .rgb, mean: [0, 0, 0], std: [1, 1, 1])
        residual.architecture.backbone = [
            .conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
            .residual(inChannels: 4, outChannels: 4, stride: 1),
            .residual(inChannels: 4, outChannels: 8, stride: 2),
            .globalAveragePool,
        ]
        var hadamard = Fixtures.manifest(head: .hadamard, alphaLearned: false)
        hadamard.head.bias = false
        hadamard.architecture.backbone.insert(.dropout(probability: 0.5), at: 5)
        var noBias = Fixtures.manifest(head: .learned)
        noBias.head.bias = false
        return [Fixtures.manifest(), residual, hadamard, noBias]
    }

    static func network(for manifest: ModelManifest) throws -> Network {
        try Network(backbone: manifest.architecture.backbone, inputShape: manifest.input.shape,
                    head: makeHead(manifest.head), seed: 3)
    }

    @Test(arguments: manifests())
    func expectedTensorsAreTheNetworksTensors(_ manifest: ModelManifest) throws {
        try manifest.validate()
        let network = try Self.network(for: manifest)
        let fromNetwork = network.namedTensors().map { "\($0.name) \($0.tensor.shape)" }.sorted()
        let fromManifest = manifest.expectedTensors.map { "\($0.name) \($0.shape)" }.sorted()
        #expect(fromNetwork == fromManifest)
        let count = manifest.parameterCount
        #expect(count.backbone == network.parameterCount.backbone)
        #expect(count.head == network.parameterCount.head)
        #expect(count.headStoredBytes == manifest.head.storedHeadBytes)
    }

    @Test(arguments: manifests())
    func savedNetworkReloadsWithIdenticalLogits(_ manifest: ModelManifest) throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = try Self.network(for: manifest)
        let saved = try StoredModel.save(manifest: manifest, tensors: StoredModel.tensors(of: network), into: directory)
        let reloaded = try StoredModel.load(from: saved.location).makeNetwork()
        var generator = SeededGenerator(seed: 11)
        let shape = [2] + manifest.input.shape
        let input = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextGaussian()) })
        let before = try network.forward(input, training: false)
        let after = try reloaded.forward(input, training: false)
        #expect(before.data.map(\.bitPattern) == after.data.map(\.bitPattern))
    }

    @Test func manifestRefusedByTheHeadNamesTheHead() {
        var manifest = Fixtures.manifest(head: .hadamard)
        manifest.head = HeadSpec(kind: .hadamard, features: 8, classes: 8, skipAllOnesRow: true)
        manifest.labels = (0..<8).map { "c\($0)" }
        guard case .invalidManifest(field: "head", _)? = Fixtures.error(ModelStoreError.self, { try manifest.validate() }) else {
            Issue.record("expected the head to be refused"); return
        }
    }
}
