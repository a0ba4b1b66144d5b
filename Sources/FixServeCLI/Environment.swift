import Foundation

/// Defaults from `FIXSERVE_<FLAG>` environment variables: `--max-batch-size` reads
/// `FIXSERVE_MAX_BATCH_SIZE`. A flag on the command line wins over the variable.
enum Environment {
    static func string(_ flag: String, _ fallback: String) -> String {
        ProcessInfo.processInfo.environment[variable(flag)] ?? fallback
    }

    static func int(_ flag: String, _ fallback: Int) -> Int {
        ProcessInfo.processInfo.environment[variable(flag)].flatMap { Int($0) } ?? fallback
    }

    static func double(_ flag: String, _ fallback: Double) -> Double {
        ProcessInfo.processInfo.environment[variable(flag)].flatMap { Double($0) } ?? fallback
    }

    /// true for `1`, `true` or `yes` (any case), false when unset or anything else.
    static func bool(_ flag: String) -> Bool {
        ["1", "true", "yes"].contains((ProcessInfo.processInfo.environment[variable(flag)] ?? "").lowercased())
    }

    static func variable(_ flag: String) -> String {
        "FIXSERVE_" + flag.uppercased().replacingOccurrences(of: "-", with: "_")
    }
}
