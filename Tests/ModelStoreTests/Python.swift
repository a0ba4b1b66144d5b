import Foundation
import Testing

/// Runs python3 for reference checks and script tests.
enum Python {
    /// The package's root directory (where Package.swift is).
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    /// Whether `python3` runs and can import `module`.
    static func hasModule(_ module: String) -> Bool {
        (try? run(["python3", "-c", "import \(module)"]).status) == 0
    }

    static let underCI = ProcessInfo.processInfo.environment["CI"] == "true"
    static let hasNumpy = hasModule("numpy")
    static let hasONNXRuntime = hasNumpy && hasModule("onnxruntime")

    /// A suite's condition on a Python module: skipped where the module is missing, except under
    /// CI=true, where the suite runs and `require` fails it: a green CI run ran every reference.
    static func condition(_ available: Bool, _ module: String) -> ConditionTrait {
        .enabled(if: available || underCI, Comment(rawValue: "python3 cannot import \(module) (scripts/install-deps --test installs it)"))
    }

    /// Fails the test when `available` is false (only reached under CI=true).
    static func require(_ available: Bool, _ module: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        try #require(available, Comment(rawValue: "CI=true runs every reference check, but python3 cannot import \(module)"),
                     sourceLocation: sourceLocation)
    }

    /// Runs `arguments` through /usr/bin/env; returns the exit status and stdout+stderr.
    @discardableResult
    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }
}
