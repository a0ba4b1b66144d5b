/// A pre-scan that refuses deeply nested JSON before it reaches the parser.
enum JSONDepth {
    /// Throws `ServiceError` (400) when arrays and objects nest deeper than `maxDepth`.
    static func check(_ bytes: ArraySlice<UInt8>, maxDepth: Int) throws {
        var depth = 0
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = true
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                depth += 1
                if depth > maxDepth {
                    throw ServiceError.badRequest("the JSON nests arrays and objects deeper than \(maxDepth) levels")
                }
            case UInt8(ascii: "]"), UInt8(ascii: "}"): depth -= 1
            default: break
            }
        }
    }
}
