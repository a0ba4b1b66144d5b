import ArgumentParser
import Foundation
import ProcessAllocator
import JSONParser

/// Parsing a JSON request body, as an Open Inference Protocol request's tensor arrives.
struct JSONBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "json", abstract: "Time the JSON parse of a request body (JSONValue.parse).")

    @Option(help: "A JSON document, such as an inference request with a tensor in \"data\".")
    var file: String

    @OptionGroup var timing: TimingOptions

    func run() throws {
        let bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: file)))
        let numbers = Self.countNumbers(try JSONValue.parse(bytes[...]))
        let stopwatch = timing.stopwatch
        let time = stopwatch.medianWallAndCPUNanoseconds {
            _ = try? JSONValue.parse(bytes[...])
        }
        print("allocator jemalloc \(ProcessAllocator.version)")
        print("bytes \(bytes.count)")
        print("numbers \(numbers)")
        print("parse_cpu_us \(String(format: "%.2f", time.cpu / 1000))")
        print("parse_cpu_ns_per_number \(String(format: "%.1f", time.cpu / Double(max(1, numbers))))")
    }

    private static func countNumbers(_ value: JSONValue) -> Int {
        switch value {
        case .number: return 1
        case .numbers(let values): return values.count
        case .array(let values): return values.reduce(0) { $0 + countNumbers($1) }
        case .object(let object): return object.members.reduce(0) { $0 + countNumbers($1.value) }
        default: return 0
        }
    }
}
