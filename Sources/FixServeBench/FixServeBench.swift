import ArgumentParser

/// Micro-benchmarks of the numeric core (release build only).
@main
struct FixServeBench: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "fixserve-bench", subcommands: [])
}
