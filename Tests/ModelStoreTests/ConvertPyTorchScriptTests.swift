import Foundation
import Numerics
import Testing
@testable import ModelStore

/// Runs scripts/convert_pytorch.py on a NumPy archive (PyTorch is not needed) and loads the result.
@Suite(Python.condition(Python.hasNumpy, "numpy"))
struct ConvertPyTorchScriptTests {
    init() throws { try Python.require(Python.hasNumpy, "numpy") }

    /// A state_dict in PyTorch's naming: `features.<i>` for the backbone, a scalar α,
    /// BatchNorm's num_batches_tracked; element k of each tensor is k·0.5 − 1.
    private func writeStateDict(_ manifest: ModelManifest, to url: URL, extra: String = "") throws {
        let shapes = manifest.expectedTensors.map { tensor -> String in
            let name = tensor.name.replacingOccurrences(of: "backbone.", with: "features.")
            let shape = name == "head.alpha" ? "()" : "(\(tensor.shape.map(String.init).joined(separator: ",")),)"
            return "'\(name)': \(shape)"
        }.joined(separator: ", ")
        let script = """
        import numpy as np
        shapes = {\(shapes)}
        arrays = {n: (np.arange(int(np.prod(s)), dtype=np.float64) * 0.5 - 1).reshape(s).astype(np.float32) for n, s in shapes.items()}
        arrays['features.1.num_batches_tracked'] = np.array(7, dtype=np.int64)
        \(extra)
        np.savez('\(url.path)', **arrays)
        """
        let result = try Python.run(["python3", "-c", script])
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func convertedStateDictLoadsWithTheExpectedValues() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = Fixtures.manifest()
        let manifestURL = directory.appendingPathComponent("manifest.json")
        try manifest.jsonData().write(to: manifestURL)
        let weights = directory.appendingPathComponent("weights.npz")
        try writeStateDict(manifest, to: weights)
        let output = directory.appendingPathComponent("models/converted")
        let script = Python.repositoryRoot.appendingPathComponent("scripts/convert_pytorch.py").path
        let result = try Python.run([
            "python3", script, "--manifest", manifestURL.path, "--weights", weights.path,
            "--output", output.path, "--rename", "features.=backbone.",
        ])
        #expect(result.status == 0, "\(result.output)")

        let stored = try StoredModel.load(from: output.appendingPathComponent("1"))
        #expect(stored.manifest == manifest)
        for expected in manifest.expectedTensors {
            let reference = (0..<expected.count).map { Float($0) * 0.5 - 1 }
            #expect(stored.tensors[expected.name]?.data == reference, "\(expected.name)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: output.path) == ["1"])
    }

    @Test func scriptRefusesTensorsThatDoNotMatchTheManifest() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = Fixtures.manifest()
        let manifestURL = directory.appendingPathComponent("manifest.json")
        try manifest.jsonData().write(to: manifestURL)
        let weights = directory.appendingPathComponent("weights.npz")
        try writeStateDict(manifest, to: weights, extra: "arrays['features.5.weight'] = np.zeros((8, 17), np.float32)")
        let output = directory.appendingPathComponent("models/converted")
        let script = Python.repositoryRoot.appendingPathComponent("scripts/convert_pytorch.py").path
        let result = try Python.run([
            "python3", script, "--manifest", manifestURL.path, "--weights", weights.path,
            "--output", output.path, "--rename", "features.=backbone.",
        ])
        #expect(result.status == 1)
        #expect(result.output.contains("backbone.5.weight"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: output.appendingPathComponent("1").path))
    }
}
