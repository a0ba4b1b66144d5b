/// JSON string literals for JSON written by hand where speed or exact bytes matter: safetensors
/// headers here, and above this layer the service's responses and `fixserve predict --json`.
/// The one place FixServe escapes a JSON string.
public enum JSONString {
    /// `string` as a JSON string literal, quotes included: `"` and `\` escaped, `\n`, `\r`, `\t`
    /// by name, other control characters as `\u00xx`; everything else, non-ASCII included, as is.
    /// The same string always gives the same bytes (safetensors files depend on it).
    public static func literal(_ string: String) -> String {
        // Labels, names and most messages need no escaping: one append instead of one per scalar.
        if !needsEscaping(string) {
            return "\"" + string + "\""
        }
        var out = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// Appends `literal(string)`'s bytes to `bytes`, without an intermediate string when nothing
    /// needs escaping: for bodies written as bytes.
    public static func append(_ string: String, to bytes: inout [UInt8]) {
        guard !needsEscaping(string) else { return bytes.append(contentsOf: literal(string).utf8) }
        bytes.append(UInt8(ascii: "\""))
        bytes.append(contentsOf: string.utf8)
        bytes.append(UInt8(ascii: "\""))
    }

    private static func needsEscaping(_ string: String) -> Bool {
        string.utf8.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }
}
