import Foundation

/// The training jobs in a state directory: `<state>/jobs/<id>.json`, one pretty-printed JSON file
/// per job, written atomically, keys sorted and dates as ISO 8601 strings with milliseconds, so
/// people can read and diff them. Files written before dates were strings (seconds since
/// 2001-01-01, `Date`'s own Codable form) still read, so existing state directories load.
///
/// Beside them: `<state>/queue.json`, the ids of the queued jobs in the order they will run,
/// and `<state>/checkpoints/<id>.safetensors`, the running job's checkpoint.
struct TrainingJobStore: Sendable {
    /// `<state>/jobs`.
    let folder: URL
    /// `<state>/queue.json`.
    let queueFile: URL
    /// `<state>/checkpoints`.
    let checkpointFolder: URL

    init(stateDirectory: URL) {
        folder = stateDirectory.appendingPathComponent("jobs")
        queueFile = stateDirectory.appendingPathComponent("queue.json")
        checkpointFolder = stateDirectory.appendingPathComponent("checkpoints")
    }

    /// The queue order on disk: `{"version": 1, "queued": [ids, first to run first]}`.
    private struct QueueOrder: Codable {
        var version: Int
        var queued: [String]
    }

    /// Replaces the queue order, atomically.
    ///
    /// - Throws: `AtomicFile.Failure` naming the step that failed.
    func writeQueue(_ ids: [String]) throws {
        try AtomicFile.write(try Self.encoder.encode(QueueOrder(version: 1, queued: ids)), to: queueFile)
    }

    /// The queue order last written; nil when there is none (a state directory from before the
    /// order was kept, or a new one).
    ///
    /// - Throws: a read or `DecodingError` when the file exists but cannot be read.
    func readQueue() throws -> [String]? {
        guard FileManager.default.fileExists(atPath: queueFile.path) else { return nil }
        return try Self.decoder.decode(QueueOrder.self, from: Data(contentsOf: queueFile)).queued.filter(Self.isJobID)
    }

    /// The checkpoint file of a job (which need not exist).
    func checkpoint(of id: String) -> TrainingCheckpointFile {
        TrainingCheckpointFile(url: checkpointFolder.appendingPathComponent("\(id).safetensors"))
    }

    /// The ids of the jobs that have a checkpoint file.
    func checkpointedIDs() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: checkpointFolder.path)) ?? []
        return names.filter { $0.hasSuffix(".safetensors") && !$0.hasPrefix(".") }.map { String($0.dropLast(".safetensors".count)) }
    }

    /// Writes `job`'s file, replacing the previous one in a single rename.
    ///
    /// - Throws: `AtomicFile.Failure` (the step and the system's reason, e.g. a full disk), or
    ///   `EncodingError` for a job that JSON cannot hold.
    func write(_ job: TrainingJob) throws {
        try AtomicFile.write(try Self.encoder.encode(job), to: file(of: job.id))
    }

    /// The job with this id from its file; nil when there is no such file or `id` could not be a
    /// job's (only the lower-case hex and dashes of the ids this server makes may reach the
    /// file system).
    ///
    /// - Throws: `DecodingError` or a read error when the file exists but cannot be read as a job.
    func read(id: String) throws -> TrainingJob? {
        guard Self.isJobID(id) else { return nil }
        let url = file(of: id)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return try Self.decoder.decode(TrainingJob.self, from: Data(contentsOf: url))
    }

    /// Every job file in the folder, and the names of those that could not be read as jobs.
    func readAll() -> (jobs: [TrainingJob], unreadable: [String]) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return ([], []) }
        var jobs: [TrainingJob] = [], unreadable: [String] = []
        for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
            do {
                jobs.append(try Self.decoder.decode(TrainingJob.self, from: Data(contentsOf: folder.appendingPathComponent(name))))
            } catch {
                unreadable.append(name)
            }
        }
        return (jobs, unreadable)
    }

    private func file(of id: String) -> URL { folder.appendingPathComponent("\(id).json") }

    /// Whether `id` has the form of the ids `TrainerQueue` gives (lower-case UUIDs).
    static func isJobID(_ id: String) -> Bool {
        let allowed = { (byte: UInt8) in
            (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        return !id.isEmpty && id.utf8.count <= 64 && id.utf8.allSatisfy(allowed)
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        // Milliseconds: jobs submitted within the same second still restore in order.
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(Self.withMilliseconds))
        }
        return encoder
    }

    static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            if let seconds = try? container.decode(Double.self) {
                // The form of files written before dates were ISO 8601.
                return Date(timeIntervalSinceReferenceDate: seconds)
            }
            let text = try container.decode(String.self)
            if let date = try? Self.withMilliseconds.parse(text) { return date }
            if let date = try? Date.ISO8601FormatStyle().parse(text) { return date }
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "\"\(text)\" is not an ISO 8601 date")
        }
        return decoder
    }

    private static let withMilliseconds = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
}
