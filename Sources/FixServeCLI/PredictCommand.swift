import ArgumentParser
import Datasets
import FixServeService
import Foundation
import ImageCodec
import LinearAlgebra
import ModelStore
import Numerics

/// `fixserve predict`: classifies image files offline with a stored model, the same way the
/// server does (same preprocessing, same BN-folded engine).
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict", abstract: "Classify images with a stored model and print the top classes.")

    @Option(help: "NAME or NAME:VERSION.") var model: String
    @Option(help: "The model repository.") var models = Environment.string("models", "./models")
    @Option(help: "How many classes to print per image.") var top = 5
    @Flag(help: "Print JSON lines instead of text.") var json = false
    @Argument(help: "PNG or JPEG files.") var images: [String]

    func run() throws {
        let stored = try ModelReference(model).load(from: URL(fileURLWithPath: models))
        let network = try stored.makeNetwork()
        // As in the server: single-threaded BLAS, so the logits are the served ones bit for bit.
        BLAS.threadCount = 1
        let engine = try InferenceEngine(network: network, maxBatchSize: 1)
        let input = stored.manifest.input
        let preprocessor = InputPreprocessor(
            channels: input.shape[0], height: input.shape[1], width: input.shape[2],
            normalization: try Normalization(mean: input.mean, std: input.std), resize: input.resize)
        for path in images {
            let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
            let row = try preprocessor.row(fromEncodedImage: bytes)
            let logits = try engine.logits(for: Tensor(shape: [1] + input.shape, data: row))
            let probabilities = Softmax.probabilities(logits.data)
            let ranked = TopK.indices(of: probabilities, count: max(1, top))
            if json {
                let entries = ranked.map { index in
                    "{\"label\":\(JSONString.literal(stored.manifest.labels[index])),\"index\":\(index),\"probability\":\(probabilities[index])}"
                }
                print("{\"image\":\(JSONString.literal(path)),\"top\":[\(entries.joined(separator: ","))]}")
            } else {
                print(path)
                for index in ranked {
                    print(String(format: "  %6.2f%%  %@", probabilities[index] * 100, stored.manifest.labels[index]))
                }
            }
        }
    }
}
