import HTTPServer
import Synchronization

/// Rendered `GET /v2/models/{model}` answers by model (or model and version), each valid for
/// the repository generation it was rendered in.
final class MetadataCache: Sendable {
    private struct Entry {
        var key: String
        var generation: UInt64
        var response: HTTPResponse
    }

    /// Entries in a short list scanned in order: a model's name is usually a small string,
    /// compared in two machine words, where hashing it costs several times that. A server with
    /// more models than the list holds finds the rest by hash.
    private struct Entries {
        var listed: [Entry] = []
        var hashed: [String: Entry] = [:]
        static let listLength = 8
    }

    private let entries = Mutex(Entries())

    /// The answer stored for `key`, when it was rendered in `generation`.
    func response(for key: String, generation: UInt64) -> HTTPResponse? {
        entries.withLock { entries in
            for index in entries.listed.indices where entries.listed[index].key == key {
                return entries.listed[index].generation == generation ? entries.listed[index].response : nil
            }
            guard let entry = entries.hashed[key], entry.generation == generation else { return nil }
            return entry.response
        }
    }

    /// Keeps `response` for `key`; entries of older generations (models and versions no longer
    /// served among them) go with the first store after a change.
    func store(_ response: HTTPResponse, for key: String, generation: UInt64) {
        entries.withLock { entries in
            if entries.listed.contains(where: { $0.generation != generation }) || entries.hashed.values.contains(where: { $0.generation != generation }) {
                entries.listed.removeAll { $0.generation != generation }
                entries.hashed = entries.hashed.filter { $0.value.generation == generation }
            }
            let entry = Entry(key: key, generation: generation, response: response)
            if let index = entries.listed.firstIndex(where: { $0.key == key }) {
                entries.listed[index] = entry
            } else if entries.listed.count < Entries.listLength && entries.hashed[key] == nil {
                entries.listed.append(entry)
            } else {
                entries.hashed[key] = entry
            }
        }
    }
}
