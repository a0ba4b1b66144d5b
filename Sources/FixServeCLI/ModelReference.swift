import ArgumentParser
import Foundation
import ModelStore

/// `NAME` or `NAME:VERSION` on the command line; without a version, the highest one on disk.
struct ModelReference {
    var name: String
    var version: Int?

    init(_ text: String) throws {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        name = parts.first ?? ""
        if parts.count == 2 {
            guard let v = Int(parts[1]), v > 0 else { throw ValidationError("version in \"\(text)\" must be a positive integer") }
            version = v
        }
    }

    /// Loads and validates the stored model from a repository directory.
    func load(from repository: URL) throws -> StoredModel {
        let folder = repository.appendingPathComponent(name)
        let number: Int
        if let version {
            number = version
        } else {
            guard let newest = try StoredModel.existingVersions(in: folder).max() else {
                throw ValidationError("model \(name) has no versions in \(repository.path)")
            }
            number = newest
        }
        return try StoredModel.load(from: folder.appendingPathComponent(String(number)))
    }
}
