import ArgumentParser

/// Micro-benchmarks of the numeric core. Build in release: `swift build -c release --product fixserve-bench`.
@main
struct FixServeBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixserve-bench",
        abstract: "Micro-benchmarks of FixServe's numeric core (release build only).",
        subcommands: [HeadsBenchmark.self, TransformBenchmark.self, OfflineInferenceBenchmark.self, EngineBenchmark.self, JSONBenchmark.self,
                      InferenceBodyBenchmark.self])
}
