import Foundation
import Testing
@testable import Numerics

/// The whole forward pass against an independent numpy implementation
/// (Reference/forward_reference.py: its own convolution, BatchNorm, pooling, residual block and
/// normalised head, in float64), within 1e-4 of the largest logit.
@Suite struct NumpyReferenceTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Reference/forward_reference.py")

    static let numpyAvailable: Bool = (try? run(["python3", "-c", "import numpy"]).status) == 0
    /// Under CI=true a missing numpy fails the cross-check instead of skipping it.
    static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// Runs a command through /usr/bin/env; returns its exit status and standard error.
    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, errors: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, text)
    }

    private func write(_ tensor: Tensor, named name: String, to directory: URL) throws -> [String: Any] {
        let file = name + ".bin"
        // Float32 little-endian: the only byte order FixServe runs on (x86-64, arm64).
        let bytes = tensor.data.withUnsafeBytes { Data($0) }
        try bytes.write(to: directory.appendingPathComponent(file))
        return ["file": file, "shape": tensor.shape]
    }

    /// The heads under test: the explicit test head, and the real fixed heads, whose dense matrix
    /// (`fixedHeadMatrix`) is handed to numpy as `head.weight` since numpy cannot regenerate it.
    static let heads: [HeadKind?] = [nil, .hadamard, .orthonormal]

    @Test(.enabled(if: numpyAvailable || underCI, "python3 cannot import numpy; the numpy cross-check is skipped"), arguments: heads)
    func forwardPassMatchesNumpy(head kind: HeadKind?) throws {
        try #require(Self.numpyAvailable, "CI=true runs the numpy cross-check, but python3 cannot import numpy")
        let specs: [LayerSpec] = [
            .conv2d(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, bias: true),
            .batchNorm2d(channels: 4, epsilon: 1e-5, momentum: 0.1), .relu,
            .maxPool2d(kernel: 2, stride: 2),
            .residual(inChannels: 4, outChannels: 6, stride: 2),
            .residual(inChannels: 6, outChannels: 6, stride: 1),
            .globalAveragePool,
        ]
        var network = try TestNetworks.make(specs, inputShape: [3, 10, 10], classes: 5, normalizedHead: true, seed: 31)
        var headMatrix: Tensor?
        if let kind {
            let spec = HeadSpec(kind: kind, features: 6, classes: 5, alpha: 3.5, alphaLearned: true, bias: true, seed: 77)
            let fixed = try Network(backbone: specs, inputShape: [3, 10, 10], head: try makeHead(spec), seed: 31)
            var tensors = Dictionary(uniqueKeysWithValues: network.namedTensors().filter { $0.name.hasPrefix("backbone.") })
            tensors["head.alpha"] = Tensor(shape: [1], data: [3.5])
            tensors["head.bias"] = Tensor(shape: [5], data: [0.3, -0.2, 0.1, 0.0, -0.4])
            try fixed.load(namedTensors: tensors)
            network = fixed
            headMatrix = try fixedHeadMatrix(spec)
        }
        let input = randomTensor([3, 3, 10, 10], seed: 32)
        let logits = try network.forward(input, training: false)
        let engineLogits = try InferenceEngine(network: network, maxBatchSize: 3).logits(for: input)

        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("fixserve-numpy-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var tensors: [String: Any] = ["input": try write(input, named: "input", to: directory)]
        for (name, tensor) in network.namedTensors() { tensors[name] = try write(tensor, named: name, to: directory) }
        if let headMatrix { tensors["head.weight"] = try write(headMatrix, named: "head.weight", to: directory) }
        let specJSON = try JSONSerialization.jsonObject(with: JSONEncoder().encode(specs))
        let index: [String: Any] = ["specs": specJSON, "tensors": tensors]
        try JSONSerialization.data(withJSONObject: index).write(to: directory.appendingPathComponent("index.json"))

        let (status, errors) = try Self.run(["python3", Self.script.path, directory.path])
        try #require(status == 0, "forward_reference.py failed: \(errors)")
        let data = try Data(contentsOf: directory.appendingPathComponent("reference_logits.bin"))
        try #require(data.count == logits.count * 4, "reference wrote \(data.count) bytes, expected \(logits.count * 4)")
        let reference = data.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }

        let largest = reference.map { abs(Double($0)) }.max() ?? 0
        #expect(largest > 0.1, "logits too small to compare: \(reference)")
        for (label, actual) in [("network", logits.data), ("engine", engineLogits.data)] {
            let difference = zip(actual, reference).map { abs(Double($0) - Double($1)) }.max() ?? .infinity
            #expect(difference <= 1e-4 * largest,
                    "\(label): max |swift − numpy| = \(difference), largest |logit| = \(largest)")
        }
    }
}
