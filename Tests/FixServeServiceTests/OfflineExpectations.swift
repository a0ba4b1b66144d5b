import Datasets
import FixServeService
import Foundation
import ImageCodec
import ModelStore
import Numerics

/// What offline inference says about a set of images: the reference every served answer is
/// checked against. Uses the same path as `fixserve predict` (stored model → BN-folded engine →
/// the server's preprocessing).
struct OfflineExpectations {
    struct Entry {
        var name: String
        var bytes: [UInt8]
        /// The preprocessed input, [1, 28, 28] normalised.
        var row: [Float]
        var logits: [Float]
        var probabilities: [Float]
        var topLabel: String
    }

    var entries: [Entry]
    let directory: URL

    init(model: URL, images: [(name: String, bytes: [UInt8])], directory: URL) throws {
        self.directory = directory
        let stored = try StoredModel.load(from: model)
        let engine = try InferenceEngine(network: try stored.makeNetwork(), maxBatchSize: 1)
        let input = stored.manifest.input
        let preprocessor = InputPreprocessor(
            channels: 1, height: 28, width: 28, normalization: try Normalization(mean: input.mean, std: input.std), resize: input.resize)
        entries = try images.map { image in
            let row = try preprocessor.row(fromEncodedImage: image.bytes)
            let logits = try engine.logits(for: Tensor(shape: [1, 1, 28, 28], data: row)).data
            let probabilities = SoftmaxCrossEntropy.probabilities(logits: Tensor(shape: [1, 10], data: logits)).data
            let top = probabilities.indices.max { probabilities[$0] < probabilities[$1] }!
            return Entry(name: image.name, bytes: image.bytes, row: row, logits: logits, probabilities: probabilities,
                         topLabel: stored.manifest.labels[top])
        }
    }

    /// Writes the images, their pixels and normalised inputs, and `expected.json` for the Python clients.
    func writeForClients(labels: [String], pngOnly: Bool) throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var list: [[String: Any]] = []
        for entry in entries where !pngOnly || entry.name.hasSuffix(".png") {
            let imageFile = directory.appendingPathComponent(entry.name)
            try Data(entry.bytes).write(to: imageFile)
            // Raw and normalised forms only exist for images already in the model's 28×28 gray form.
            let image = try ImageDecoder.decode(entry.bytes).prepared(mode: .gray, width: 28, height: 28)
            let pixelsFile = directory.appendingPathComponent(entry.name + ".u8")
            try Data(image.pixels).write(to: pixelsFile)
            let normalized = image.normalizedCHW(mean: [0.286], std: [0.353])
            let normalizedFile = directory.appendingPathComponent(entry.name + ".f32")
            try normalized.withUnsafeBytes { Data($0) }.write(to: normalizedFile)
            let top = entry.probabilities.max()!
            list.append([
                "image_file": imageFile.path, "pixels_file": pixelsFile.path, "normalized_file": normalizedFile.path,
                "logits": entry.logits.map(Double.init), "top_label": entry.topLabel, "top_probability": Double(top),
            ])
        }
        let url = directory.appendingPathComponent("expected.json")
        try JSONSerialization.data(withJSONObject: ["images": list, "labels": labels]).write(to: url)
        return url
    }
}
