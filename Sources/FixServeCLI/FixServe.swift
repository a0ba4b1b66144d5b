import ArgumentParser

/// The `fixserve` command line: serve, train, predict, export, auth.
@main
struct FixServe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fixserve",
        abstract: "Serve and train image classifiers whose last layer is fixed.",
        subcommands: [ServeCommand.self, TrainCommand.self, PredictCommand.self, ExportCommand.self, AuthCommand.self],
        defaultSubcommand: ServeCommand.self)
}
