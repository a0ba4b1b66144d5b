import Foundation
import Numerics
import Testing
@testable import ModelStore

@Suite struct StoredModelTests {
    @Test func saveThenLoadIsBitExact() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = Fixtures.manifest()
        var tensors = Fixtures.tensors(for: manifest)
        tensors["head.bias"] = Tensor(shape: [3], data: [-0.0, .leastNonzeroMagnitude, -.greatestFiniteMagnitude])
        let saved = try StoredModel.save(manifest: manifest, tensors: tensors, into: directory)
        #expect(saved.version == 1)
        let loaded = try StoredModel.load(from: saved.location)
        #expect(loaded.manifest == manifest)
        for (name, tensor) in tensors {
            #expect(loaded.tensors[name]?.data.map(\.bitPattern) == tensor.data.map(\.bitPattern), "\(name)")
        }
        let second = try StoredModel.save(manifest: manifest, tensors: tensors, into: directory)
        #expect(second.version == 2)
    }

    private func loadError(_ change: (inout ModelManifest, inout [String: Tensor]) -> Void) throws -> ModelStoreError? {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var manifest = Fixtures.manifest()
        var tensors = Fixtures.tensors(for: manifest)
        change(&manifest, &tensors)
        let version = directory.appendingPathComponent("1")
        try FileManager.default.createDirectory(at: version, withIntermediateDirectories: true)
        try manifest.jsonData().write(to: version.appendingPathComponent(StoredModel.manifestFileName))
        try SafetensorsFile(tensors: tensors).write(to: version.appendingPathComponent(StoredModel.tensorsFileName))
        return Fixtures.error(ModelStoreError.self) { _ = try StoredModel.load(from: version) }
    }

    @Test func rejectsMissingTensor() throws {
        #expect(try loadError { _, tensors in tensors["backbone.1.running_var"] = nil } == .missingTensor("backbone.1.running_var"))
    }

    @Test func rejectsUnusedTensor() throws {
        #expect(try loadError { _, tensors in tensors["head.weight"] = Tensor(shape: [3, 8]) } == .unusedTensor("head.weight"))
    }

    @Test func rejectsShapeThatDisagreesWithTheManifest() throws {
        #expect(try loadError { _, tensors in tensors["backbone.5.weight"] = Tensor(shape: [8, 17]) }
                == .tensorShapeMismatch(name: "backbone.5.weight", expected: [8, 18], actual: [8, 17]))
    }

    @Test func rejectsInvalidManifestField() throws {
        #expect(try loadError { manifest, _ in manifest.input.std = [0] }
                == .invalidManifest(field: "input.std[0]", problem: "must be > 0 and finite, got 0.0"))
    }

    @Test func wrapsTensorFileErrorsWithThePath() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let saved = try StoredModel.save(manifest: Fixtures.manifest(), tensors: Fixtures.tensors(for: Fixtures.manifest()), into: directory)
        let file = saved.location.appendingPathComponent(StoredModel.tensorsFileName)
        try Data([1, 2, 3]).write(to: file)
        #expect(Fixtures.error(ModelStoreError.self) { _ = try StoredModel.load(from: saved.location) }
                == .invalidTensorFile(path: file.path, .fileTooShort(size: 3)))
        try FileManager.default.removeItem(at: file)
        #expect(Fixtures.error(ModelStoreError.self) { _ = try StoredModel.load(from: saved.location) }
                == .missingFile(path: file.path))
    }

    @Test func failedSaveLeavesNoVersionAndNoTemporaryDirectory() throws {
        struct DiskFull: Error {}
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = Fixtures.manifest()
        for failingFile in [StoredModel.tensorsFileName, StoredModel.manifestFileName] {
            #expect(throws: DiskFull.self) {
                try StoredModel.save(manifest: manifest, tensors: Fixtures.tensors(for: manifest), into: directory, version: nil,
                                     afterWriting: { if $0 == failingFile { throw DiskFull() } })
            }
            #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path).isEmpty)
        }
    }

    @Test func refusesToSaveTensorsThatDoNotMatchTheManifest() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        var tensors = Fixtures.tensors(for: Fixtures.manifest())
        tensors["head.alpha"] = nil
        #expect(throws: ModelStoreError.missingTensor("head.alpha")) {
            try StoredModel.save(manifest: Fixtures.manifest(), tensors: tensors, into: directory)
        }
        #expect(try StoredModel.existingVersions(in: directory).isEmpty)
    }

    @Test func refusesToOverwriteAnExistingVersion() throws {
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let manifest = Fixtures.manifest()
        try StoredModel.save(manifest: manifest, tensors: Fixtures.tensors(for: manifest), into: directory, version: 3)
        #expect(throws: ModelStoreError.versionExists(path: directory.appendingPathComponent("3").path)) {
            try StoredModel.save(manifest: manifest, tensors: Fixtures.tensors(for: manifest), into: directory, version: 3)
        }
        #expect(try StoredModel.existingVersions(in: directory) == [3])
    }

    @Test func versionNumbersAreCanonicalPositiveIntegers() throws {
        #expect(StoredModel.versionNumber("12") == 12)
        for name in ["0", "-1", "01", "+3", ".tmp-1", "1.5", "config.json", ""] {
            #expect(StoredModel.versionNumber(name) == nil, "\(name)")
        }
        let directory = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["2", ".tmp-ABC", "007", "notes"] {
            try FileManager.default.createDirectory(at: directory.appendingPathComponent(name), withIntermediateDirectories: true)
        }
        try Data().write(to: directory.appendingPathComponent("5"))
        #expect(try StoredModel.existingVersions(in: directory) == [2])
    }
}
