import Foundation
import Testing

/// Python packages a client test needs. Where they are missing the test is skipped, except
/// under CI=true: there a missing client fails the test, so a green CI run has run every client.
struct PythonModules: Sendable {
    let modules: [String]
    /// Whether `python3` imports all of them.
    let available: Bool

    init(_ modules: String...) {
        self.modules = modules
        available = (try? Client.run("/usr/bin/env", ["python3", "-c", "import " + modules.joined(separator: ", ")]).status) == 0
    }

    static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"

    private var missing: String {
        "python3 cannot import \(modules.joined(separator: ", ")) (scripts/install-deps --test installs them)"
    }

    /// Runs the test when the modules import, or under CI=true, where `require()` then fails it.
    var condition: ConditionTrait { .enabled(if: available || Self.underCI, Comment(rawValue: missing)) }

    /// The first line of such a test: fails it when the modules are missing (only reached under CI=true).
    func require(sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(available, Comment(rawValue: "CI=true runs every client test, but \(missing)"), sourceLocation: sourceLocation)
    }
}
