import Datasets
import Foundation
import HTTPServer
import ImageCodec
import Logging
import ModelStore
import Numerics
import Testing
@testable import FixServeService

/// What the request got wrong is a 4xx saying so; what went wrong in the server is a 500 with a
/// JSON error, and its cause is logged.
@Suite struct ServerFaultTests {
    @Test func requestFaultsAre4xxAndServerFaultsAre500() {
        let cases: [(Error, Int)] = [
            (NumericsError.invalidInput("shape"), 400),
            (NumericsError.invalidSpec("kernel 0"), 400),
            (NumericsError.moreClassesThanFeatures(classes: 20, features: 10, head: "hadamard"), 400),
            (NumericsError.lapackFailure(routine: "dgeqrf", info: -4), 500),
            (NumericsError.missingTensor("head.alpha"), 500),
            (NumericsError.shapeMismatch(name: "w", expected: [2], actual: [3]), 500),
            (DatasetError.unknownDataset(name: "cifar", available: ["fashion-mnist"]), 400),
            (DatasetError.missingRoot(path: "folder:x"), 400),
            (DatasetError.notInstalled(name: "fashion-mnist", directory: "/usr/share", hint: "apt"), 500),
            (DatasetError.corruptGzip(path: "train.gz", reason: "bad"), 500),
            (DatasetError.truncated(path: "t", expectedBytes: 10, actualBytes: 2), 500),
            (ImageError.corrupt(format: .png, detail: "x"), 400),
            (ImageError.tooManyPixels(width: 1 << 20, height: 1 << 20, limit: 1 << 26), 413),
            (ImageError.encodingFailed(format: .png, detail: "x"), 500),
            (ModelStoreError.modelNotFound("x"), 404),
            (ModelStoreError.io(path: "/models/x", problem: "disk full"), 500),
            (BatcherError.queueFull(queued: 4, maxQueueSize: 4), 503),
            (BatcherError.empty, 400),
        ]
        for (error, status) in cases {
            let mapped = ServiceError.from(error)
            #expect(mapped.status == status, "\(error) → \(mapped)")
            #expect(!mapped.message.isEmpty)
        }
    }

    @Test func aValueJSONCannotHoldIsA500NotAnEmptyObject() {
        do {
            _ = try HTTPResponse.json(["alpha": Double.nan])
            Issue.record("NaN was written as JSON")
        } catch let error as ServiceError {
            #expect(error.status == 500 && error.message.contains("JSON"), "\(error)")
        } catch {
            Issue.record("unexpected \(error)")
        }
        struct Reading: Encodable { var value = Double.infinity }
        #expect(throws: ServiceError.self) { _ = try HTTPResponse.json(encoding: Reading()) }
    }

    /// A model whose learned α is NaN loads (its logits are NaN, served as null), but its info
    /// cannot be written as JSON: the route answers 500 with a JSON error and the log says why.
    @Test func anUnencodableResponseIsA500WithItsCauseLogged() throws {
        let log = RecordedLog()
        let server = try ServiceTestServer(logger: Logger(label: "fault-test") { _ in log }) { models in
            try ServiceTestServer.writeModel(named: "broken", into: models, seed: 3) { tensors in
                try #require(tensors["head.alpha"] != nil, "tensors: \(tensors.keys.sorted())")
                tensors["head.alpha"] = Tensor(shape: [1], data: [.nan])
            }
        }
        defer { server.stop() }
        let (status, body) = try Client.curl(["--http2-prior-knowledge", "\(server.base)/v1/models/broken"])
        #expect(status == 500, "body \(body)")
        let object = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
        let message = object?["error"] as? String ?? ""
        #expect(message.contains("could not be written as JSON"), "body \(body)")
        let entries = log.entries
        #expect(entries.contains { $0.level == .error && $0.text.contains("/v1/models/broken") && $0.text.contains("cause") },
                "log: \(entries.map(\.text))")
        // The healthy model is unaffected.
        #expect(try Client.curl(["--http2-prior-knowledge", "\(server.base)/v1/models/tiny"]).status == 200)
    }
}

/// A swift-log backend that keeps what it is given, for tests that check what the server logs.
final class RecordedLog: LogHandler, @unchecked Sendable {
    struct Entry {
        var level: Logger.Level
        /// The message and its metadata, as one line.
        var text: String
    }

    private let lock = NSLock()
    private var stored: [Entry] = []
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let fields = (event.metadata ?? [:]).sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        lock.withLock { stored.append(Entry(level: event.level, text: "\(event.message) \(fields)")) }
    }

    var entries: [Entry] { lock.withLock { stored } }
}
