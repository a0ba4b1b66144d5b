import ArgumentParser
import FixServeService
import Foundation
import ProcessAllocator

/// Reading an Open Inference Protocol request body and writing its answer: the protocol's own
/// share of an inference beside the transport and the forward pass.
struct InferenceBodyBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer-body",
        abstract: "Time InferenceRequest.decode of a request body and the encoding of its answer.")

    @Option(help: "A request body: JSON, or a JSON header followed by binary tensor data.")
    var file: String

    @Option(help: "The JSON header's length (Inference-Header-Content-Length) when binary data follows it.")
    var headerLength: Int?

    @Option(help: "Classes of the answer's logits.")
    var classes = 10

    @OptionGroup var timing: TimingOptions

    func run() throws {
        let body = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        let request = try InferenceRequest.decode(body: body, headerLength: headerLength)
        // The answer a request like this gets: each output it asks for over the classes.
        let outputs = request.requestedOutputs.map { output in
            InferenceResponse.Output(
                name: output.name, shape: [1, classes],
                data: .fp32((0..<classes).map { Float($0) * 0.37 - 1.1 }), binary: output.binary)
        }
        let response = InferenceResponse(modelName: "fashion-mnist", modelVersion: "1", id: request.id, outputs: outputs)
        let stopwatch = timing.stopwatch
        // Process CPU time: the steadier figure on a shared machine.
        let decode = stopwatch.medianWallAndCPUNanoseconds {
            _ = try? InferenceRequest.decode(body: body, headerLength: headerLength)
        }
        let encode = stopwatch.medianWallAndCPUNanoseconds { _ = response.encoded() }
        print("allocator jemalloc \(ProcessAllocator.version)")
        print("bytes \(body.count)")
        print("decode_cpu_us \(String(format: "%.2f", decode.cpu / 1000))")
        print("encode_answer_cpu_us \(String(format: "%.2f", encode.cpu / 1000))")
    }
}
