import Foundation
import Numerics
import Testing
@testable import ModelStore

/// Exports models to ONNX and runs them with onnxruntime (Reference/onnx_reference.py),
/// comparing the logits with FixServe's Network and with an independent float64 NumPy forward
/// pass of the stored model.
@Suite(Python.condition(Python.hasONNXRuntime, "numpy and onnxruntime"))
struct ONNXExporterTests {
    static let tolerance: Float = 1e-4

    init() throws { try Python.require(Python.hasONNXRuntime, "numpy and onnxruntime") }

    /// Noise tensors for `manifest`: weights scaled by 1/√fan-in so activations stay O(1),
    /// running variances positive.
    private func tensors(_ manifest: ModelManifest, seed: UInt64) -> [String: Tensor] {
        var tensors = Fixtures.tensors(for: manifest, seed: seed)
        for (name, tensor) in tensors {
            if name.hasSuffix("running_var") {
                tensors[name]!.data = tensor.data.map { abs($0) + 0.5 }
            } else if tensor.rank >= 2 {
                let scale = 1 / Float(tensor.shape.dropFirst().reduce(1, *)).squareRoot()
                tensors[name]!.data = tensor.data.map { $0 * scale }
            }
        }
        return tensors
    }

    private func writeFloats(_ values: [Float], to url: URL) throws {
        try values.withUnsafeBufferPointer { Data(buffer: $0) }.write(to: url)
    }

    private func readFloats(_ url: URL) throws -> [Float] {
        let data = try Data(contentsOf: url)
        return data.withUnsafeBytes { raw in (0..<(data.count / 4)).map { raw.loadUnaligned(fromByteOffset: 4 * $0, as: Float.self) } }
    }

    /// Exports, runs onnxruntime and the NumPy reference on a batch of 3 random inputs; returns
    /// (onnxruntime logits, NumPy logits).
    private func run(
        _ manifest: ModelManifest, _ tensors: [String: Tensor], matrix: Tensor?, epsilon: Float = 1e-6
    ) throws -> (onnx: [Float], reference: [Float]) {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let stored = try StoredModel.save(manifest: manifest, tensors: tensors, into: directory)
        let onnx = directory.appendingPathComponent("model.onnx")
        try ONNXExporter.export(stored, fixedHeadMatrix: matrix, epsilon: epsilon).write(to: onnx)
        var generator = SeededGenerator(seed: 99)
        let shape = [3] + manifest.input.shape
        try writeFloats((0..<shape.reduce(1, *)).map { _ in Float(generator.nextGaussian()) },
                        to: directory.appendingPathComponent("x.f32"))
        try writeFloats(matrix?.data ?? [], to: directory.appendingPathComponent("m.f32"))
        let script = Python.repositoryRoot.appendingPathComponent("Tests/ModelStoreTests/Reference/onnx_reference.py").path
        let result = try Python.run([
            "python3", script, "--onnx", onnx.path, "--input", directory.appendingPathComponent("x.f32").path,
            "--shape", shape.map(String.init).joined(separator: ","), "--out", directory.appendingPathComponent("ort.f32").path,
            "--model-dir", stored.location.path, "--head-matrix", directory.appendingPathComponent("m.f32").path,
            "--epsilon", "\(epsilon)", "--numpy-out", directory.appendingPathComponent("ref.f32").path,
        ])
        try #require(result.status == 0, "\(result.output)")
        return (try readFloats(directory.appendingPathComponent("ort.f32")),
                try readFloats(directory.appendingPathComponent("ref.f32")))
    }

    private func expectClose(_ a: [Float], _ b: [Float], count: Int) {
        #expect(a.count == count && b.count == count)
        let maxDifference = zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
        #expect(maxDifference <= Self.tolerance, "max |onnxruntime − reference| = \(maxDifference)")
    }

    @Test func orthonormalHeadModelMatchesTheReference() throws {
        let manifest = Fixtures.manifest()
        var generator = SeededGenerator(seed: 5)
        let matrix = Tensor(shape: [8, 3], data: (0..<24).map { _ in Float(generator.nextGaussian()) })
        let (onnx, reference) = try run(manifest, tensors(manifest, seed: 3), matrix: matrix)
        expectClose(onnx, reference, count: 9)
    }

    @Test func residualModelWithLearnedHeadMatchesTheReference() throws {
        var manifest = Fixtures.manifest(head: .learned)
        manifest.input = ModelInput(shape: [3, 8, 8], colorMode: .rgb, mean: [0, 0, 0], std: [1, 1, 1])
        manifest.architecture.backbone = [
            .conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
            .residual(inChannels: 4, outChannels: 4, stride: 1),
            .residual(inChannels: 4, outChannels: 8, stride: 2),
            .globalAveragePool,
        ]
        let (onnx, reference) = try run(manifest, tensors(manifest, seed: 4), matrix: nil)
        expectClose(onnx, reference, count: 9)
    }

    @Test func fixedAlphaHeadWithoutBiasAndDropoutMatchesTheReference() throws {
        var manifest = Fixtures.manifest(head: .hadamard, alphaLearned: false)
        manifest.head.bias = false
        manifest.architecture.backbone.insert(.dropout(probability: 0.5), at: 5)
        let signs: [Float] = (0..<24).map { ($0 * 7 % 5) < 2 ? -1 : 1 }
        let matrix = Tensor(shape: [8, 3], data: signs.map { $0 / Float(8).squareRoot() })
        let (onnx, reference) = try run(manifest, tensors(manifest, seed: 6), matrix: matrix)
        expectClose(onnx, reference, count: 9)
    }

    @Test(arguments: StoredModelNetworkTests.manifests())
    func exportedNetworkMatchesFixServeLogits(_ manifest: ModelManifest) throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let network = try StoredModelNetworkTests.network(for: manifest)
        var tensors = StoredModel.tensors(of: network)
        // Non-trivial BatchNorm statistics, α and bias, so every term of the graph matters.
        var generator = SeededGenerator(seed: 21)
        for (name, tensor) in tensors where name.hasSuffix("running_mean") || name.hasSuffix("running_var") || name.hasPrefix("head.") && name != "head.weight" {
            let positive = name.hasSuffix("running_var")
            tensors[name]!.data = tensor.data.map { _ in
                let g = Float(generator.nextGaussian()) * 0.5
                return positive ? abs(g) + 0.5 : g + (name == "head.alpha" ? 5 : 0)
            }
        }
        let saved = try StoredModel.save(manifest: manifest, tensors: tensors, into: directory)
        let onnx = directory.appendingPathComponent("model.onnx")
        try ONNXExporter.export(saved).write(to: onnx)

        let shape = [5] + manifest.input.shape
        let input = Tensor(shape: shape, data: (0..<shape.reduce(1, *)).map { _ in Float(generator.nextGaussian()) })
        try writeFloats(input.data, to: directory.appendingPathComponent("x.f32"))
        let script = Python.repositoryRoot.appendingPathComponent("Tests/ModelStoreTests/Reference/onnx_reference.py").path
        let result = try Python.run([
            "python3", script, "--onnx", onnx.path, "--input", directory.appendingPathComponent("x.f32").path,
            "--shape", shape.map(String.init).joined(separator: ","), "--out", directory.appendingPathComponent("ort.f32").path,
        ])
        try #require(result.status == 0, "\(result.output)")
        let expected = try saved.makeNetwork().forward(input, training: false)
        expectClose(try readFloats(directory.appendingPathComponent("ort.f32")), expected.data, count: 5 * manifest.head.classes)
    }

    @Test func refusesAFixedHeadWithoutItsMatrix() throws {
        let manifest = Fixtures.manifest()
        let stored = StoredModel(manifest: manifest, tensors: tensors(manifest, seed: 1), location: URL(fileURLWithPath: "/"))
        #expect(throws: ModelStoreError.onnxExport(problem: "the orthonormal head needs its [N, C] matrix")) {
            try ONNXExporter.export(stored, fixedHeadMatrix: nil, epsilon: 1e-6)
        }
        #expect(throws: ModelStoreError.self) {
            try ONNXExporter.export(stored, fixedHeadMatrix: Tensor(shape: [3, 8]), epsilon: 1e-6)
        }
    }
}
