import HTTPServer
import Synchronization

/// Rendered `GET /v2/models/{model}` answers by model (or model and version), each valid for
/// the repository generation it was rendered in.
final class MetadataCache: Sendable {
    private struct Entry {
        var generation: UInt64
        var response: HTTPResponse
    }

    private let entries = Mutex<[String: Entry]>([:])

    /// The answer stored for `key`, when it was rendered in `generation`.
    func response(for key: String, generation: UInt64) -> HTTPResponse? {
        entries.withLock { entries in
            guard let entry = entries[key], entry.generation == generation else { return nil }
            return entry.response
        }
    }

    /// Keeps `response` for `key`; entries of older generations (models and versions no longer
    /// served among them) go with the first store after a change.
    func store(_ response: HTTPResponse, for key: String, generation: UInt64) {
        entries.withLock { entries in
            if entries.values.contains(where: { $0.generation != generation }) {
                entries = entries.filter { $0.value.generation == generation }
            }
            entries[key] = Entry(generation: generation, response: response)
        }
    }
}
