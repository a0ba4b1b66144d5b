import Foundation
import TLS

/// The API keys a server accepts, each with its role and a name, held only as SHA-256 digests.
///
/// An API-key file (`--auth-file`) has one key per line:
///
///     # Blank lines and everything after a '#' are ignored.
///     <role> <credential> [<name>]
///     admin  sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08  ops
///     infer  sha256:60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752
///
/// - `role` is `infer` or `admin` (see `Role`);
/// - `credential` is `sha256:` and the key's SHA-256 digest in hexadecimal (what
///   `fixserve auth digest` prints, or `printf %s KEY | sha256sum`), or the key itself, which
///   is digested as the file is read (the digest form keeps the key out of the file);
/// - `name`, optional, is not secret: it is the owner shown on training jobs, and keys that
///   share a name share its per-key limits. Without one the key is named `key-` and the first
///   8 hex digits of its digest.
///
/// A key is at least 16 characters of what a bearer token may hold (letters, digits and
/// `-._~+/`, then any `=`). `FIXSERVE_API_KEYS` takes the same entries, separated by commas or
/// newlines. Neither keys nor whole lines ever appear in an error or the log.
public struct APIKeys: Sendable {
    /// One accepted key.
    public struct Key: Sendable, Equatable {
        public var role: Role
        /// The SHA-256 digest of the key's UTF-8 bytes.
        public var digest: [UInt8]
        /// The key's non-secret name.
        public var name: String

        public init(role: Role, digest: [UInt8], name: String) {
            self.role = role
            self.digest = digest
            self.name = name
        }
    }

    /// The keys, in the order they were given.
    public let keys: [Key]
    /// Whether no key is configured (the server then serves everyone).
    public var isEmpty: Bool { keys.isEmpty }

    /// How a digest credential starts.
    public static let digestPrefix = "sha256:"
    /// The shortest key accepted.
    public static let minimumKeyLength = 16

    public init(_ keys: [Key] = []) {
        self.keys = keys
    }

    /// Reads an API-key file.
    ///
    /// - Throws: `APIKeyFileError` when the file cannot be read, holds no key, or has a bad line.
    public static func load(contentsOf file: URL) throws -> APIKeys {
        let text: String
        do {
            text = try String(contentsOf: file, encoding: .utf8)
        } catch {
            throw APIKeyFileError(source: file.path, line: nil, "cannot be read as UTF-8 text: \(error.localizedDescription)")
        }
        return try parse(text, source: file.path)
    }

    /// Parses the text of an API-key file, one key per line.
    ///
    /// - Parameter source: the file's path, for the errors.
    /// - Throws: `APIKeyFileError` naming the first bad line, or saying the text holds no key.
    public static func parse(_ text: String, source: String) throws -> APIKeys {
        // Character-wise, "\r\n" is one character: isNewline takes it, "\n" and "\r" alike.
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
        return try parse(numbered: lines.enumerated().map { ($0.offset + 1, $0.element) }, source: source, unit: "line")
    }

    /// Parses `FIXSERVE_API_KEYS`: the same entries as a file's lines, separated by commas or newlines.
    ///
    /// - Throws: `APIKeyFileError` naming the first bad entry, or saying the text holds no key.
    public static func parse(entries text: String, source: String) throws -> APIKeys {
        let entries = text.split(omittingEmptySubsequences: false) { $0 == "," || $0.isNewline }
        return try parse(numbered: entries.enumerated().map { ($0.offset + 1, $0.element) }, source: source, unit: "entry")
    }

    /// These keys and `other`'s, for a server given both a file and the variable.
    ///
    /// - Throws: `APIKeyFileError` when a key is in both (a key has one role).
    public func adding(_ other: APIKeys, source: String) throws -> APIKeys {
        for key in other.keys where keys.contains(where: { $0.digest == key.digest }) {
            throw APIKeyFileError(source: source, line: nil, "the key named \(key.name) is also in the other source; give each key once")
        }
        return APIKeys(keys + other.keys)
    }

    /// The key whose digest equals `presented`'s, or nil.
    ///
    /// Takes the same time whichever key matches, and whether one does: every stored digest is
    /// compared in full, with no early exit, and the match is selected without a branch.
    public func key(matching presented: String) -> Key? {
        guard let digest = try? SHA256Digest.digest(of: Array(presented.utf8)), digest.count == SHA256Digest.byteCount else {
            return nil
        }
        var found = -1
        for (index, key) in keys.enumerated() {
            var difference: UInt8 = 0
            for i in 0..<SHA256Digest.byteCount { difference |= key.digest[i] ^ digest[i] }
            // All ones when difference is 0, else 0: (0 - 1) >> 8 is -1, (1…255 - 1) >> 8 is 0.
            let mask = (Int(difference) &- 1) >> 8
            found = (index & mask) | (found & ~mask)
        }
        return found >= 0 ? keys[found] : nil
    }

    /// The credential to write in an API-key file for `key` (read from standard input by
    /// `fixserve auth digest`): `sha256:` and its digest.
    ///
    /// - Throws: `APIKeyFileError` when `key` is not a usable key; `TLSError` when OpenSSL fails.
    public static func credential(for key: String) throws -> String {
        if let problem = keyProblem(key) { throw APIKeyFileError(source: "standard input", line: nil, problem) }
        return digestPrefix + (try SHA256Digest.hexDigest(of: key))
    }

    // MARK: - Parsing

    private static func parse(numbered lines: [(Int, Substring)], source: String, unit: String) throws -> APIKeys {
        var keys: [Key] = []
        var lineOfDigest: [[UInt8]: Int] = [:]
        for (number, line) in lines {
            func fail(_ message: String) -> APIKeyFileError { APIKeyFileError(source: source, line: number, unit: unit, message) }
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(whereSeparator: \.isWhitespace)
            if fields.isEmpty { continue }
            guard (2...3).contains(fields.count) else {
                throw fail("expected \"<role> <credential> [<name>]\" (role infer or admin), found \(fields.count) field\(fields.count == 1 ? "" : "s") (the \(unit) is not shown: it may hold a key)")
            }
            // A key written first (or alone) must not reach the log, so no field but the name is quoted.
            guard let role = Role(rawValue: String(fields[0])) else {
                throw fail("the first field must be the role, infer or admin (the field is not shown: it may be a key)")
            }
            let digest = try credentialDigest(fields[1], fail: fail)
            let name: String
            if fields.count == 3 {
                name = String(fields[2])
                guard isValidName(name) else {
                    throw fail("the name \"\(name.prefix(64))\" must be 1–64 letters, digits, '-', '_' or '.'")
                }
            } else {
                name = "key-" + digest.prefix(4).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
            }
            if let earlier = lineOfDigest[digest] {
                throw fail("this key is also on \(unit) \(earlier); give each key once, with one role")
            }
            lineOfDigest[digest] = number
            keys.append(Key(role: role, digest: digest, name: name))
        }
        guard !keys.isEmpty else {
            throw APIKeyFileError(source: source, line: nil, unit: unit,
                                  "holds no key; write one \"<role> <credential> [<name>]\" per \(unit), or give no key source to serve without keys")
        }
        return APIKeys(keys)
    }

    private static func credentialDigest(_ field: Substring, fail: (String) -> APIKeyFileError) throws -> [UInt8] {
        if field.hasPrefix(digestPrefix) {
            let hex = Array(field.dropFirst(digestPrefix.count).utf8)
            guard hex.count == 2 * SHA256Digest.byteCount, let digest = decodeHex(hex) else {
                throw fail("a digest credential is \"sha256:\" and 64 hexadecimal digits; found \(hex.count) characters after \"sha256:\"")
            }
            return digest
        }
        let key = String(field)
        if let problem = keyProblem(key) { throw fail(problem) }
        do {
            return try SHA256Digest.digest(of: Array(key.utf8))
        } catch {
            throw fail("the key could not be digested: \(error)")
        }
    }

    /// Why `key` cannot be a key, without quoting it; nil when it can.
    static func keyProblem(_ key: String) -> String? {
        let bytes = Array(key.utf8)
        guard bytes.count >= minimumKeyLength else {
            return "a key must be at least \(minimumKeyLength) characters, this one has \(bytes.count) (make one with `openssl rand -hex 32`)"
        }
        let body = bytes.prefix { $0 != UInt8(ascii: "=") }
        let isTokenCharacter: (UInt8) -> Bool = { byte in
            (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || "-._~+/".utf8.contains(byte)
        }
        guard body.allSatisfy(isTokenCharacter), bytes.dropFirst(body.count).allSatisfy({ $0 == UInt8(ascii: "=") }) else {
            return "a key may hold only letters, digits and -._~+/ (then any '='), as a bearer token does"
        }
        return nil
    }

    /// Whether `name` can name a key: 1–64 letters, digits, `-`, `_` or `.`.
    public static func isValidName(_ name: String) -> Bool {
        (1...64).contains(name.utf8.count) && name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5a) || ($0 >= 0x61 && $0 <= 0x7a) || "-_.".utf8.contains($0)
        }
    }

    private static func decodeHex(_ hex: [UInt8]) -> [UInt8]? {
        func value(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: return byte - 0x30
            case 0x61...0x66: return byte - 0x61 + 10
            case 0x41...0x46: return byte - 0x41 + 10
            default: return nil
            }
        }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: hex.count, by: 2) {
            guard let high = value(hex[index]), let low = value(hex[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        return bytes
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
