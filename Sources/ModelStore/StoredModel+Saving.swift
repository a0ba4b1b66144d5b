import Foundation
import Numerics

extension StoredModel {
    /// The prefix of the temporary directories a save writes into; loaders skip them.
    public static let temporaryPrefix = ".tmp-"

    /// Saves a new version of a model under `modelDirectory` (`models/<name>/`), atomically.
    ///
    /// Both files are written into a temporary directory inside `modelDirectory`, fsynced, and
    /// the directory is renamed to its version number, then `modelDirectory` is fsynced. A
    /// reader therefore sees either no new version or a complete one; an interrupted save leaves
    /// at most a `.tmp-…` directory, which loaders ignore. A failed save removes its temporary
    /// directory.
    /// - Parameters:
    ///   - version: the version number, or nil for one more than the highest existing version.
    /// - Returns: the new version directory (and `StoredModel.version` gives its number).
    /// - Throws: `ModelStoreError` when the manifest is invalid, the tensors do not match it,
    ///   the version exists, or a file operation fails.
    @discardableResult
    public static func save(
        manifest: ModelManifest, tensors: [String: Tensor], into modelDirectory: URL, version: Int? = nil
    ) throws -> StoredModel {
        try save(manifest: manifest, tensors: tensors, into: modelDirectory, version: version, afterWriting: { _ in })
    }

    /// `save` with a hook called after each file is written, so tests can fail a save midway.
    static func save(
        manifest: ModelManifest, tensors: [String: Tensor], into modelDirectory: URL, version: Int?,
        afterWriting: (String) throws -> Void
    ) throws -> StoredModel {
        try manifest.validate()
        try checkTensors(tensors, against: manifest)
        if let version, version <= 0 {
            throw ModelStoreError.invalidManifest(field: "version", problem: "must be a positive integer, got \(version)")
        }
        let files = FileManager.default
        try io(modelDirectory) { try files.createDirectory(at: modelDirectory, withIntermediateDirectories: true) }
        let temporary = modelDirectory.appendingPathComponent(temporaryPrefix + UUID().uuidString)
        try io(temporary) { try files.createDirectory(at: temporary, withIntermediateDirectories: false) }
        do {
            let metadata = ["format": "fixserve", "formatVersion": String(ModelManifest.currentFormatVersion)]
            try writeFile(SafetensorsFile(tensors: tensors, metadata: metadata).encoded(), temporary, tensorsFileName)
            try afterWriting(tensorsFileName)
            try writeFile(manifest.jsonData(), temporary, manifestFileName)
            try afterWriting(manifestFileName)
            try synchronizeDirectory(temporary)

            let number = try version ?? (existingVersions(in: modelDirectory).max() ?? 0) + 1
            let destination = modelDirectory.appendingPathComponent(String(number))
            guard !files.fileExists(atPath: destination.path) else {
                throw ModelStoreError.versionExists(path: destination.path)
            }
            // rename(2): the version appears whole or not at all.
            try io(destination) { try files.moveItem(at: temporary, to: destination) }
            try synchronizeDirectory(modelDirectory)
            return StoredModel(manifest: manifest, tensors: tensors, location: destination)
        } catch {
            try? files.removeItem(at: temporary)
            throw error
        }
    }

    /// The version numbers present under `modelDirectory`, unsorted; temporary and other
    /// directories are skipped.
    /// - Throws: `ModelStoreError.io` when the directory cannot be listed.
    public static func existingVersions(in modelDirectory: URL) throws -> [Int] {
        let names = try io(modelDirectory) { try FileManager.default.contentsOfDirectory(atPath: modelDirectory.path) }
        return names.compactMap { name in
            var isDirectory: ObjCBool = false
            let path = modelDirectory.appendingPathComponent(name).path
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue else { return nil }
            return versionNumber(name)
        }
    }

    private static func writeFile(_ data: Data, _ directory: URL, _ name: String) throws {
        let url = directory.appendingPathComponent(name)
        do {
            try SafetensorsFile.writeDurably(data, to: url)
        } catch let SafetensorsError.io(path, problem) {
            throw ModelStoreError.io(path: path, problem: problem)
        }
    }

    /// fsync on the directory makes the entries it holds (new files, a rename) durable.
    private static func synchronizeDirectory(_ url: URL) throws {
        try io(url) {
            guard let handle = FileHandle(forReadingAtPath: url.path) else {
                throw ModelStoreError.io(path: url.path, problem: "cannot open the directory to fsync it")
            }
            defer { try? handle.close() }
            try handle.synchronize()
        }
    }

    private static func io<T>(_ url: URL, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ModelStoreError {
            throw error
        } catch {
            throw ModelStoreError.io(path: url.path, problem: error.localizedDescription)
        }
    }
}
