import Datasets
import Foundation
import ModelStore
import Numerics

/// A training checkpoint on disk: one safetensors file (`<state>/checkpoints/<job>.safetensors`)
/// holding the network's tensors as `network.<name>`, SGD's velocities as `sgd.velocity.<index>`
/// and, in the header's metadata, the format and its version, the rest of the state as JSON and
/// a CRC-32 of everything else, so a torn or damaged file is refused rather than resumed from.
///
/// Written atomically (temporary file, fsync, rename), so a crash leaves the previous checkpoint
/// or the new one, never a part.
public struct TrainingCheckpointFile: Sendable {
    /// The version written in `metadata["version"]`; a file of another version is refused.
    public static let formatVersion = 1
    static let formatName = "fixserve-training-checkpoint"

    /// Where the file is.
    public let url: URL

    public init(url: URL) { self.url = url }

    /// Whether there is a file to resume from.
    public var exists: Bool { FileManager.default.fileExists(atPath: url.path) }

    /// Replaces the file with `checkpoint`, atomically.
    ///
    /// - Throws: `AtomicFile.Failure` naming the step that failed (e.g. a full disk).
    public func write(_ checkpoint: TrainingCheckpoint) throws {
        try AtomicFile.write(try Self.encode(checkpoint), to: url)
    }

    /// The checkpoint in the file.
    ///
    /// - Throws: `TrainingCheckpointError`: `.unreadable` when the file cannot be read, `.corrupt`
    ///   when it is not a whole checkpoint (bad safetensors, missing pieces, checksum mismatch),
    ///   `.unsupportedVersion` for another format version.
    public func read() throws -> TrainingCheckpoint {
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw TrainingCheckpointError.unreadable(path: url.path, problem: error.localizedDescription)
        }
        return try Self.decode(bytes, path: url.path)
    }

    /// Deletes the file; a missing file is not an error.
    public func remove() {
        try? FileManager.default.removeItem(at: url)
    }

    // MARK: - Encoding

    /// The parts of the state that are not tensors, as JSON in the metadata.
    struct State: Codable {
        var request: String
        var epoch: Int
        var batch: Int
        var step: Int
        var lossSum: Double
        var correct: Double
        var seen: Int
        var history: [TrainingRun.Epoch]
        var elapsedSeconds: Double
        var batchEpoch: Int
        var batchOffset: Int
        /// Generator words as 16 hex digits: JSON numbers do not hold 64 bits in every reader.
        var batchGenerator: [String]
        var dropoutGenerators: [[String]]
        /// `Network.parameters.count`; velocity i is stored when `velocityPresent[i]`.
        var velocityPresent: [Bool]
    }

    static func encode(_ checkpoint: TrainingCheckpoint) throws -> Data {
        let state = State(
            request: checkpoint.request, epoch: checkpoint.epoch, batch: checkpoint.batch, step: checkpoint.step,
            lossSum: checkpoint.lossSum, correct: checkpoint.correct, seen: checkpoint.seen, history: checkpoint.history,
            elapsedSeconds: checkpoint.elapsedSeconds, batchEpoch: checkpoint.batches.epoch,
            batchOffset: checkpoint.batches.offset, batchGenerator: checkpoint.batches.generatorState.map(hex),
            dropoutGenerators: checkpoint.dropoutGenerators.map { $0.map(hex) },
            velocityPresent: checkpoint.velocities.map { $0 != nil })
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var tensors: [String: Tensor] = [:]
        for (name, tensor) in checkpoint.tensors { tensors["network." + name] = tensor }
        for (index, velocity) in checkpoint.velocities.enumerated() {
            if let velocity { tensors["sgd.velocity.\(index)"] = Tensor(shape: [velocity.count], data: velocity) }
        }
        var file = SafetensorsFile(tensors: tensors, metadata: [
            "format": formatName, "version": String(formatVersion),
            "state": String(decoding: try encoder.encode(state), as: UTF8.self),
        ])
        file.metadata["checksum"] = checksum(of: file)
        return file.encoded()
    }

    static func decode(_ bytes: Data, path: String) throws -> TrainingCheckpoint {
        func corrupt(_ problem: String) -> TrainingCheckpointError { .corrupt(path: path, problem: problem) }
        var file: SafetensorsFile
        do {
            file = try SafetensorsFile(bytes: bytes)
        } catch {
            throw corrupt("\(error)")
        }
        guard file.metadata["format"] == formatName else {
            throw corrupt("it is not a \(formatName) file (format \(file.metadata["format"].map { "\"\($0)\"" } ?? "missing"))")
        }
        guard let version = file.metadata["version"] else { throw corrupt("the format version is missing") }
        guard version == String(formatVersion) else { throw TrainingCheckpointError.unsupportedVersion(path: path, version: version) }
        guard let stored = file.metadata.removeValue(forKey: "checksum") else { throw corrupt("the checksum is missing") }
        let computed = checksum(of: file)
        guard stored == computed else { throw corrupt("checksum mismatch: the file says \(stored), its contents give \(computed)") }
        guard let text = file.metadata["state"], let state = try? JSONDecoder().decode(State.self, from: Data(text.utf8)) else {
            throw corrupt("the state in its metadata is not valid")
        }
        var tensors: [String: Tensor] = [:]
        var velocities: [[Float]?] = state.velocityPresent.map { _ in nil }
        for (name, tensor) in file.tensors {
            if name.hasPrefix("network.") {
                tensors[String(name.dropFirst("network.".count))] = tensor
            } else if name.hasPrefix("sgd.velocity."), let index = Int(name.dropFirst("sgd.velocity.".count)),
                      velocities.indices.contains(index), state.velocityPresent[index] {
                velocities[index] = tensor.data
            } else {
                throw corrupt("it holds an unexpected tensor \"\(name)\"")
            }
        }
        if let missing = state.velocityPresent.indices.first(where: { state.velocityPresent[$0] && velocities[$0] == nil }) {
            throw corrupt("the velocity of parameter \(missing) is missing")
        }
        let dropout = state.dropoutGenerators.compactMap(words)
        guard let batchGenerator = words(state.batchGenerator), dropout.count == state.dropoutGenerators.count else {
            throw corrupt("a generator state is not 16-digit hex words")
        }
        return TrainingCheckpoint(
            requestJSON: state.request, epoch: state.epoch, batch: state.batch, step: state.step, lossSum: state.lossSum,
            correct: state.correct, seen: state.seen, history: state.history, elapsedSeconds: state.elapsedSeconds,
            batches: BatchIterator.Cursor(epoch: state.batchEpoch, offset: state.batchOffset, generatorState: batchGenerator),
            dropoutGenerators: dropout, tensors: tensors, velocities: velocities)
    }

    /// "crc32:<8 hex digits>" of the file's bytes as encoded without a checksum entry (the
    /// encoding is canonical, so the reader can encode again what it read and compare).
    private static func checksum(of file: SafetensorsFile) -> String {
        var unsummed = file
        unsummed.metadata["checksum"] = nil
        let value = CRC32.checksum(unsummed.encoded())
        return "crc32:" + String(format: "%08x", value)
    }

    private static func hex(_ word: UInt64) -> String {
        let digits = String(word, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    private static func words(_ texts: [String]) -> [UInt64]? {
        let words = texts.compactMap { $0.utf8.count == 16 ? UInt64($0, radix: 16) : nil }
        return words.count == texts.count ? words : nil
    }
}
