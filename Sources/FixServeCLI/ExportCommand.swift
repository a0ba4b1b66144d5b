import ArgumentParser
import Foundation
import ModelStore

/// `fixserve export --onnx OUT.onnx --model NAME[:VERSION]`.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export a stored model as a standard ONNX model (opset 13).")

    @Option(help: "Where to write the ONNX model.") var onnx: String
    @Option(help: "NAME or NAME:VERSION.") var model: String
    @Option(help: "The model repository.") var models = Environment.string("models", "./models")

    func run() throws {
        let stored = try ModelReference(model).load(from: URL(fileURLWithPath: models))
        let data = try ONNXExporter.export(stored)
        try data.write(to: URL(fileURLWithPath: onnx), options: .atomic)
        print("wrote \(onnx) (\(data.count) bytes) from \(stored.location.path)")
    }
}
