import Foundation
import Numerics
@testable import ModelStore

/// Small models and scratch directories shared by the tests.
enum Fixtures {
    /// A 1×6×6 gray input → conv(1→2, 3×3, pad 1) → BN → ReLU → maxpool 2 → flatten (18)
    /// → linear 18→8 → orthonormal head N = 8, C = 3.
    static func manifest(head kind: HeadKind = .orthonormal, alphaLearned: Bool = true) -> ModelManifest {
        ModelManifest(
            input: ModelInput(shape: [1, 6, 6], colorMode: .gray, resize: .stretch, mean: [0.5], std: [0.25]),
            backbone: [
                .conv2d(inChannels: 1, outChannels: 2, kernel: 3, stride: 1, padding: 1, bias: false),
                .batchNorm2d(channels: 2, epsilon: 1e-5, momentum: 0.1),
                .relu,
                .maxPool2d(kernel: 2, stride: 2),
                .flatten,
                .linear(inFeatures: 18, outFeatures: 8, bias: true),
            ],
            head: HeadSpec(kind: kind, features: 8, classes: 3, alpha: 4, alphaLearned: alphaLearned, bias: true, seed: 7),
            labels: ["cat", "dog", "emu"],
            provenance: ModelProvenance(dataset: "unit-test", command: "fixserve train", seed: 1,
                                        metrics: ["testAccuracy": 0.5], created: "2026-11-29T01:00:00Z"))
    }

    /// Every tensor `manifest` needs, filled with `value` (or seeded noise when nil).
    static func tensors(for manifest: ModelManifest, value: Float? = nil, seed: UInt64 = 1) -> [String: Tensor] {
        var generator = SeededGenerator(seed: seed)
        var out: [String: Tensor] = [:]
        for expected in manifest.expectedTensors {
            let data = (0..<expected.count).map { _ in value ?? Float(generator.nextGaussian()) }
            out[expected.name] = Tensor(shape: expected.shape, data: data)
        }
        return out
    }

    /// A fresh empty directory under the system's temporary directory.
    static func scratchDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("modelstore-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// Raw safetensors bytes from a header string and data bytes (no padding added).
    static func safetensors(header: String, data: [UInt8]) -> Data {
        let headerBytes = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        out.append(contentsOf: data)
        return out
    }

    /// The error `body` throws, or nil.
    static func error<E: Error>(_ type: E.Type, _ body: () throws -> Void) -> E? {
        do {
            try body()
            return nil
        } catch let error as E {
            return error
        } catch {
            return nil
        }
    }
}
