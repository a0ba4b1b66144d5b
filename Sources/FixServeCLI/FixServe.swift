import ArgumentParser

/// The `fixserve` command line: serve, train, predict, export.
@main
struct FixServe: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixserve",
        abstract: "Serve and train image classifiers whose last layer is fixed.",
        subcommands: [])
}
