import HTTPServer
import Testing
@testable import FixServeService

@Suite struct MetadataCacheTests {
    private func answer(_ text: String) -> HTTPResponse { .text(text) }
    private func text(_ response: HTTPResponse?) -> String? {
        guard case .bytes(let bytes)? = response?.body else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// More models than the scanned list holds are all found, each answer only for the
    /// generation it was rendered in; a new generation drops what is older.
    @Test func answersEveryModelForItsGenerationOnly() {
        let cache = MetadataCache()
        let names = (0..<20).map { "model-\($0)" }
        for name in names { cache.store(answer(name), for: name, generation: 1) }
        for name in names { #expect(text(cache.response(for: name, generation: 1)) == name) }
        #expect(cache.response(for: "model-3", generation: 2) == nil)
        #expect(cache.response(for: "unknown", generation: 1) == nil)
        cache.store(answer("new"), for: "model-15", generation: 2)
        #expect(text(cache.response(for: "model-15", generation: 2)) == "new")
        #expect(cache.response(for: "model-3", generation: 1) == nil, "an older generation's entry survived a newer store")
        cache.store(answer("again"), for: "model-3", generation: 2)
        #expect(text(cache.response(for: "model-3", generation: 2)) == "again")
        #expect(text(cache.response(for: "model-15", generation: 2)) == "new")
    }
}
