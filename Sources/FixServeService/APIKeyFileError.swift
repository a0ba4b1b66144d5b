/// A line of an API-key file (or of `FIXSERVE_API_KEYS`) that cannot be used, or a file that
/// cannot be read: says where and what to write instead.
public struct APIKeyFileError: Error, Equatable, CustomStringConvertible, Sendable {
    /// The file's path, or the environment variable's name.
    public var source: String
    /// The 1-based line (or, in the variable, entry) number; nil for the whole source.
    public var line: Int?
    /// What `line` counts: "line" in a file, "entry" in the variable.
    public var unit: String
    /// What is wrong and how to fix it. Never contains a key.
    public var message: String

    public init(source: String, line: Int?, unit: String = "line", _ message: String) {
        self.source = source
        self.line = line
        self.unit = unit
        self.message = message
    }

    public var description: String {
        line.map { "\(source), \(unit) \($0): \(message)" } ?? "\(source): \(message)"
    }
}
