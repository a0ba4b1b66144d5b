import ArgumentParser
import Foundation
import ModelStore

extension StoredModel {
    /// The highest version of model `name` in the repository at `models`.
    ///
    /// - Throws: `ValidationError` when the model has no versions there, or what loading throws.
    static func newest(_ name: String, in models: String) throws -> StoredModel {
        let folder = URL(fileURLWithPath: models).appendingPathComponent(name)
        guard let version = try existingVersions(in: folder).max() else {
            throw ValidationError("no versions of \(name) in \(models)")
        }
        return try load(from: folder.appendingPathComponent(String(version)))
    }
}
