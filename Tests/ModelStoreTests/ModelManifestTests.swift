import Foundation
import Numerics
import Testing
@testable import ModelStore

@Suite struct ModelManifestTests {
    @Test func jsonRoundTripKeepsEveryField() throws {
        let manifest = Fixtures.manifest()
        let decoded = try ModelManifest(json: manifest.jsonData())
        #expect(decoded == manifest)
    }

    @Test func decodesTheDocumentedExample() throws {
        let json = """
        {
          "formatVersion": 1,
          "input": {"shape": [3, 8, 8], "colorMode": "rgb", "resize": "centerCrop",
                    "mean": [0.49, 0.48, 0.45], "std": [0.25, 0.24, 0.26]},
          "architecture": {"backbone": [
            {"type": "conv2d", "in": 3, "out": 8, "kernel": 3, "stride": 1, "padding": 1, "bias": false},
            {"type": "batchnorm2d", "channels": 8},
            {"type": "relu"},
            {"type": "residual", "in": 8, "out": 16, "stride": 2},
            {"type": "globalavgpool"}
          ]},
          "head": {"kind": "hadamard", "features": 16, "classes": 4, "alpha": 10, "alphaLearned": false,
                   "bias": true, "seed": 0, "skipAllOnesRow": true},
          "labels": ["a", "b", "c", "d"]
        }
        """
        let manifest = try ModelManifest(json: Data(json.utf8))
        #expect(manifest.provenance == ModelProvenance())
        #expect(try manifest.backboneOutputShape() == [16])
        #expect(manifest.input.resize == .centerCrop)
    }

    private func fieldError(_ mutate: (inout ModelManifest) -> Void) -> String? {
        var manifest = Fixtures.manifest()
        mutate(&manifest)
        guard case let .invalidManifest(field, _)? = Fixtures.error(ModelStoreError.self, { try manifest.validate() })
        else { return nil }
        return field
    }

    @Test func rejectsOutOfRangeFieldsNamingTheField() {
        #expect(fieldError { $0.labels.removeLast() } == "labels")
        #expect(fieldError { $0.labels[2] = "cat" } == "labels[2]")
        #expect(fieldError { $0.input.shape = [1, -6, 6] } == "input.shape[1]")
        #expect(fieldError { $0.input.shape = [1, 6] } == "input.shape")
        #expect(fieldError { $0.input.mean = [0.5, 0.5] } == "input.mean")
        #expect(fieldError { $0.input.std = [0] } == "input.std[0]")
        #expect(fieldError { $0.input.std = [-1] } == "input.std[0]")
        #expect(fieldError { $0.input.colorMode = .rgb } == "input.colorMode")
        #expect(fieldError { $0.head.classes = 0 } == "head.classes")
        #expect(fieldError { $0.head.classes = 9; $0.labels = (0..<9).map(String.init) } == "head.classes")
        #expect(fieldError { $0.head.features = 7 } == "head.features")
        #expect(fieldError { $0.head.alpha = .nan } == "head.alpha")
        #expect(fieldError { $0.formatVersion = 2 } == "formatVersion")
        #expect(fieldError {
            $0.architecture.backbone[0] = .conv2d(inChannels: 3, outChannels: 2, kernel: 3, stride: 1, padding: 1, bias: false)
        } == "architecture.backbone[0].in")
        #expect(fieldError {
            $0.architecture.backbone[0] = .conv2d(inChannels: 1, outChannels: 2, kernel: 0, stride: 1, padding: 1, bias: false)
        } == "architecture.backbone[0].kernel")
        #expect(fieldError { $0.architecture.backbone[1] = .batchNorm2d(channels: 2, epsilon: 0, momentum: 0.1) }
                == "architecture.backbone[1].epsilon")
        #expect(fieldError { $0.architecture.backbone.remove(at: 4) } == "architecture.backbone[4]")
        #expect(fieldError { $0.architecture.backbone.removeLast(2) } == "architecture.backbone")
    }

    @Test func rejectsUnknownFormatVersionWhenDecoding() throws {
        var json = try JSONSerialization.jsonObject(with: Fixtures.manifest().jsonData()) as! [String: Any]
        json["formatVersion"] = 99
        let data = try JSONSerialization.data(withJSONObject: json)
        guard case .invalidManifest(field: "formatVersion", _)? = Fixtures.error(ModelStoreError.self, { _ = try ModelManifest(json: data) })
        else { Issue.record("expected an invalid formatVersion"); return }
    }

    @Test func rejectsMissingAndMistypedFieldsNamingThePath() throws {
        var json = try JSONSerialization.jsonObject(with: Fixtures.manifest().jsonData()) as! [String: Any]
        var input = json["input"] as! [String: Any]
        input["std"] = nil
        json["input"] = input
        let missing = try JSONSerialization.data(withJSONObject: json)
        #expect(Fixtures.error(ModelStoreError.self, { _ = try ModelManifest(json: missing) })
                == .invalidManifest(field: "input.std", problem: "missing"))
        input["std"] = [0.25]
        input["colorMode"] = "cmyk"
        json["input"] = input
        let unknown = try JSONSerialization.data(withJSONObject: json)
        guard case .invalidManifest(field: "input.colorMode", _)? = Fixtures.error(ModelStoreError.self, { _ = try ModelManifest(json: unknown) })
        else { Issue.record("expected an invalid input.colorMode"); return }
    }

    @Test func expectedTensorsFollowTheNetworkNaming() {
        var manifest = Fixtures.manifest()
        manifest.input = ModelInput(shape: [3, 8, 8], colorMode: .rgb, mean: [0, 0, 0], std: [1, 1, 1])
        manifest.architecture.backbone = [
            .conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
            .residual(inChannels: 4, outChannels: 4, stride: 1),
            .residual(inChannels: 4, outChannels: 8, stride: 2),
            .globalAveragePool,
        ]
        let tensors = Dictionary(uniqueKeysWithValues: manifest.expectedTensors.map { ($0.name, $0.shape) })
        #expect(tensors["backbone.0.weight"] == [4, 3, 3, 3])
        #expect(tensors["backbone.0.bias"] == [4])
        #expect(tensors["backbone.1.conv1.weight"] == [4, 4, 3, 3])
        #expect(tensors["backbone.1.bn2.running_var"] == [4])
        #expect(tensors["backbone.1.shortcut.conv.weight"] == nil)
        #expect(tensors["backbone.2.conv1.weight"] == [8, 4, 3, 3])
        #expect(tensors["backbone.2.conv2.weight"] == [8, 8, 3, 3])
        #expect(tensors["backbone.2.shortcut.conv.weight"] == [8, 4, 1, 1])
        #expect(tensors["backbone.2.shortcut.bn.running_mean"] == [8])
        #expect(tensors["backbone.2.conv1.bias"] == nil)
        #expect(tensors["head.alpha"] == [1])
        #expect(tensors["head.bias"] == [3])
        #expect(tensors["head.weight"] == nil)
        // conv 2; block 1: 2 convs + 2 BN × 4; block 2: 3 convs + 3 BN × 4; head 2.
        #expect(tensors.count == 2 + 10 + 15 + 2)
    }

    @Test func parameterCountSeparatesBackboneHeadAndBuffers() {
        let fixed = Fixtures.manifest().parameterCount
        // conv 1·2·9 = 18, BN 2 + 2, linear 18·8 + 8 = 152 → 174 trained; BN running stats 4.
        #expect(fixed.backbone == 174)
        #expect(fixed.buffers == 4)
        #expect(fixed.head == 1 + 3)
        #expect(fixed.headStoredBytes == 16)
        #expect(fixed.learnedHeadBytes == (3 * 8 + 3) * 4)
        let learned = Fixtures.manifest(head: .learned).parameterCount
        #expect(learned.head == 3 * 8 + 3)
        #expect(learned.headStoredBytes == learned.learnedHeadBytes)
        #expect(learned.total == 174 + 27)
        #expect(Fixtures.manifest(alphaLearned: false).parameterCount.head == 3)
    }
}
