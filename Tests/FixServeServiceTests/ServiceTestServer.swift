import Datasets
import Dispatch
import FixServeService
import Foundation
import HTTPServer
import ImageCodec
import Logging
import ModelStore
import Numerics

/// The real server on a loopback ephemeral port, serving a small model the test writes into a
/// temporary repository.
///
/// Start it as `let server = try ServiceTestServer(); defer { server.stop() }`: `stop` is
/// synchronous, so a test that fails or throws half-way leaks neither the server nor its
/// directory.
final class ServiceTestServer {
    static let labels = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

    let root: URL
    let server: FixServeServer
    var port: Int { server.port }
    var base: String { "http://127.0.0.1:\(port)" }
    var models: URL { root.appendingPathComponent("models") }

    /// - Parameters:
    ///   - accessPolicy, maxQueuedTrainingJobs, trainingLimits: as in `ServiceConfiguration`.
    ///   - prepare: writes more into the models directory (`root/models`) before the
    ///     server scans it, or into `root/state` before the trainer restores its jobs.
    init(batching: DynamicBatcher.Settings = .init(maxBatchSize: 64, maxQueueDelayMicroseconds: 2000, maxQueueSize: 1024),
         limits: HTTPServerConfiguration.Limits = .init(), maxFinishedTrainingJobs: Int = 100, pollInterval: Double = 0.2,
         logger: Logger? = nil, accessPolicy: AccessPolicy = AccessPolicy(), maxQueuedTrainingJobs: Int = 16,
         trainingLimits: TrainingLimits = TrainingLimits(), prepare: (URL) throws -> Void = { _ in }) throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("fixserve-service-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        do {
            let models = root.appendingPathComponent("models")
            try Self.writeModel(named: "tiny", into: models, seed: 5)
            try prepare(models)
            var quiet = Logger(label: "service-test")
            quiet.logLevel = .warning
            server = try FixServeServer.start(
                service: ServiceConfiguration(
                    modelsDirectory: models, stateDirectory: root.appendingPathComponent("state"),
                    dataRoot: root, batching: batching, pollInterval: pollInterval, maxQueuedTrainingJobs: maxQueuedTrainingJobs,
                    maxFinishedTrainingJobs: maxFinishedTrainingJobs, computeThreads: 1, accessPolicy: accessPolicy,
                    trainingLimits: trainingLimits),
                http: HTTPServerConfiguration(host: "127.0.0.1", port: 0, limits: limits), logger: logger ?? quiet)
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw error
        }
    }

    /// Shuts the server down (in-flight requests get 5 s) and removes its directory. Waits on
    /// the transport's own queues, not on a task, so it can run in a `defer`; calling it twice
    /// is harmless.
    func stop() {
        server.stopAndWait()
        try? FileManager.default.removeItem(at: root)
    }

    /// A small CNN with a Hadamard head over 28×28 gray images, random but fixed weights;
    /// `edit` may change the tensors before they are saved.
    @discardableResult
    static func writeModel(named name: String, into models: URL, seed: UInt64, head kind: HeadKind = .hadamard,
                           edit: (inout [String: Tensor]) throws -> Void = { _ in }) throws -> StoredModel {
        let backbone: [LayerSpec] = [
            .conv2d(inChannels: 1, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: false),
            .batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 0.1), .relu, .maxPool2d(kernel: 2, stride: 2),
            .flatten, .linear(inFeatures: 4 * 14 * 14, outFeatures: 16, bias: true), .relu,
        ]
        let head = HeadSpec(kind: kind, features: 16, classes: 10, alpha: 4, alphaLearned: true, bias: true, seed: seed)
        let network = try Network(backbone: backbone, inputShape: [1, 28, 28], head: try makeHead(head), seed: seed)
        var tensors = StoredModel.tensors(of: network)
        // Non-zero biases so that every part of the head shows in the logits.
        if kind != .learned { tensors["head.bias"] = Tensor(shape: [10], data: (0..<10).map { Float($0) * 0.05 - 0.2 }) }
        try edit(&tensors)
        let manifest = ModelManifest(
            input: ModelInput(shape: [1, 28, 28], colorMode: .gray, resize: .stretch, mean: [0.286], std: [0.353]),
            backbone: backbone, head: head, labels: labels,
            provenance: ModelProvenance(dataset: "synthetic", command: "test", seed: seed, metrics: ["test_accuracy": 0.1]))
        return try StoredModel.save(manifest: manifest, tensors: tensors, into: models.appendingPathComponent(name))
    }

    /// Distinct test images: gray 28×28 PNGs and a few RGB JPEGs of other sizes.
    static func images(count: Int, seed: UInt64 = 9) throws -> [(name: String, bytes: [UInt8])] {
        var generator = SeededGenerator(seed: seed)
        return try (0..<count).map { i in
            if i % 4 == 3 {
                let pixels = (0..<(40 * 30 * 3)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
                let image = try Image(width: 40, height: 30, mode: .rgb, pixels: pixels)
                return ("image\(i).jpg", try image.jpegData(quality: 90))
            }
            // Blobs rather than noise, so classes differ between images.
            let cx = Int(generator.next() % 28), cy = Int(generator.next() % 28), r = 3 + Int(generator.next() % 10)
            var pixels = [UInt8](repeating: 0, count: 28 * 28)
            for y in 0..<28 { for x in 0..<28 where (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r { pixels[y * 28 + x] = 200 } }
            return ("image\(i).png", try Image(width: 28, height: 28, mode: .gray, pixels: pixels).pngData())
        }
    }
}

extension FixServeServer {
    /// Shuts down (in-flight requests get 5 s) and returns when every connection is closed.
    /// The wait is on the transport's queues, not on a task, so a test can call this in a
    /// `defer`.
    func stopAndWait() {
        let stopped = DispatchSemaphore(value: 0)
        shutdown(deadline: .now() + 5) { stopped.signal() }
        stopped.wait()
    }
}

/// Runs client programs with a time limit; output goes to files so large outputs never block.
enum Client {
    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ executable: String, _ arguments: [String], timeout: Double = 120) throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("client-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { process.terminate(); process.waitUntilExit() }
        return Result(status: process.terminationStatus,
                      stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }

    /// curl with the given arguments; the last line of stdout is the HTTP status (`-w`).
    static func curl(_ arguments: [String], timeout: Double = 60) throws -> (status: Int, body: String) {
        let result = try run("/usr/bin/curl", ["-s", "-S", "--max-time", "30", "-w", "\n%{http_code}"] + arguments, timeout: timeout)
        var lines = result.stdout.components(separatedBy: "\n")
        let status = Int(lines.popLast() ?? "") ?? -1
        return (status, lines.joined(separator: "\n"))
    }

    /// What the Python client tests import.
    static let python = PythonModules("httpx", "tritonclient.http", "numpy")

    static var scripts: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Clients")
    }
}
