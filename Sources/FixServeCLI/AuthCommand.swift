import ArgumentParser
import FixServeService
import Foundation

/// `fixserve auth`: helps an operator write an API-key file.
struct AuthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth",
        abstract: "API keys for `fixserve serve --auth-file`.",
        subcommands: [Digest.self])

    /// `fixserve auth digest`: the credential to write in an API-key file for a key.
    struct Digest: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the credential (sha256:<digest>) to write in an API-key file for a key read from standard input.",
            discussion: """
                The key is read from standard input (so that it stays out of the shell history and the process list), \
                one line, surrounding whitespace ignored. For example:
                  key=$(openssl rand -hex 32)
                  printf '%s' "$key" | fixserve auth digest --role admin --name ops >> api-keys
                prints "admin sha256:… ops"; give "$key" to the client. `printf %s KEY | sha256sum` gives the same digest.
                """)

        @Option(help: "Print a whole line for this role (infer or admin) rather than the credential alone.")
        var role: String?
        @Option(help: "With --role: the key's name (shown as the owner of its training jobs).") var name: String?

        func validate() throws {
            if let role, Role(rawValue: role) == nil { throw ValidationError("--role must be infer or admin, got \(role)") }
            if name != nil && role == nil { throw ValidationError("--name goes with --role") }
            if let name, !APIKeys.isValidName(name) { throw ValidationError("--name must be 1–64 letters, digits, '-', '_' or '.'") }
        }

        func run() throws {
            let key = (readLine(strippingNewline: true) ?? "").trimmingCharacters(in: .whitespaces)
            let credential = try APIKeys.credential(for: key)
            print([role, credential, name].compactMap { $0 }.joined(separator: " "))
        }
    }
}
