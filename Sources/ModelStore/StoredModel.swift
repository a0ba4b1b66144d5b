import Foundation
import Numerics

/// One model version as stored on disk: its manifest, its tensors and where it was read from.
///
/// A version directory holds `manifest.json` and `model.safetensors`; see docs/MODEL_FORMAT.md.
public struct StoredModel: Sendable {
    /// The manifest file's name inside a version directory.
    public static let manifestFileName = "manifest.json"
    /// The tensor file's name inside a version directory.
    public static let tensorsFileName = "model.safetensors"

    public var manifest: ModelManifest
    /// Tensors by name, exactly the set `manifest.expectedTensors` names, with those shapes.
    public var tensors: [String: Tensor]
    /// The version directory.
    public var location: URL
    /// The version number when the directory's name is one (`models/<name>/<version>/`).
    public var version: Int? { Self.versionNumber(location.lastPathComponent) }

    public init(manifest: ModelManifest, tensors: [String: Tensor], location: URL) {
        self.manifest = manifest
        self.tensors = tensors
        self.location = location
    }

    /// Reads and fully validates the version directory `directory`.
    /// - Throws: `ModelStoreError`: a missing file, an invalid manifest field, a malformed tensor
    ///   file (`.invalidTensorFile` wrapping the `SafetensorsError`), or tensors that do not match
    ///   the architecture (missing, unused, wrong shape).
    public static func load(from directory: URL) throws -> StoredModel {
        let manifestURL = directory.appendingPathComponent(manifestFileName)
        let tensorsURL = directory.appendingPathComponent(tensorsFileName)
        for url in [manifestURL, tensorsURL] where !FileManager.default.fileExists(atPath: url.path) {
            throw ModelStoreError.missingFile(path: url.path)
        }
        let json: Data
        do {
            json = try Data(contentsOf: manifestURL)
        } catch {
            throw ModelStoreError.io(path: manifestURL.path, problem: "cannot read: \(error.localizedDescription)")
        }
        let manifest = try ModelManifest(json: json)
        let file: SafetensorsFile
        do {
            file = try SafetensorsFile(contentsOf: tensorsURL)
        } catch let error as SafetensorsError {
            throw ModelStoreError.invalidTensorFile(path: tensorsURL.path, error)
        }
        try checkTensors(file.tensors, against: manifest)
        return StoredModel(manifest: manifest, tensors: file.tensors, location: directory)
    }

    /// Checks that `tensors` holds exactly the tensors `manifest` needs, with the right shapes.
    /// - Throws: `ModelStoreError.missingTensor`, `.tensorShapeMismatch` or `.unusedTensor`.
    public static func checkTensors(_ tensors: [String: Tensor], against manifest: ModelManifest) throws {
        let expected = manifest.expectedTensors
        for tensor in expected {
            guard let actual = tensors[tensor.name] else { throw ModelStoreError.missingTensor(tensor.name) }
            guard actual.shape == tensor.shape else {
                throw ModelStoreError.tensorShapeMismatch(name: tensor.name, expected: tensor.shape, actual: actual.shape)
            }
        }
        let known = Set(expected.map(\.name))
        if let unused = tensors.keys.sorted().first(where: { !known.contains($0) }) {
            throw ModelStoreError.unusedTensor(unused)
        }
    }

    /// `name` as a version number: a positive decimal integer without sign or leading zeros.
    /// Anything else (temporary directories, `config.json`, hidden files) is not a version.
    public static func versionNumber(_ name: String) -> Int? {
        guard let value = Int(name), value > 0, String(value) == name else { return nil }
        return value
    }
}
