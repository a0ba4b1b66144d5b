import FixServeService
import Foundation
import Testing

/// The API-key file's parser, the digests and the matching of presented keys.
@Suite struct APIKeysTests {
    static let adminKey = "admin-key-0123456789abcdef"
    static let inferKey = "infer-key-0123456789abcdef"

    /// `sha256sum` from coreutils, the reference for the digests.
    static func sha256sum(_ text: String) throws -> String {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("key-\(UUID().uuidString)")
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return String(try Client.run("/usr/bin/sha256sum", [file.path]).stdout.prefix(64))
    }

    private func parseError(_ text: String) -> APIKeyFileError? {
        do {
            _ = try APIKeys.parse(text, source: "/etc/fixserve/api-keys")
            return nil
        } catch let error as APIKeyFileError {
            return error
        } catch {
            Issue.record("unexpected \(error)")
            return nil
        }
    }

    @Test func digestsAgreeWithSha256sum() throws {
        for key in [Self.adminKey, Self.inferKey, String(repeating: "long+/_~.", count: 50) + "=="] {
            #expect(try APIKeys.credential(for: key) == "sha256:" + Self.sha256sum(key))
        }
    }

    @Test func readsRolesCredentialsNamesAndComments() throws {
        let keys = try APIKeys.parse("""
            # FixServe keys
            admin \(try APIKeys.credential(for: Self.adminKey)) ops   # the operators

            \tinfer   \(Self.inferKey)\r
            infer \(try APIKeys.credential(for: Self.inferKey + "2").uppercased().replacingOccurrences(of: "SHA256:", with: "sha256:")) frontend
            """, source: "keys")
        #expect(keys.keys.map(\.role) == [.admin, .infer, .infer])
        #expect(keys.keys[0].name == "ops")
        // Unnamed keys are named after their digest, which is not secret.
        #expect(keys.keys[1].name == "key-" + String(try Self.sha256sum(Self.inferKey).prefix(8)))
        #expect(keys.key(matching: Self.adminKey)?.name == "ops")
        #expect(keys.key(matching: Self.inferKey)?.role == .infer)
        #expect(keys.key(matching: Self.inferKey + "2")?.name == "frontend")
        #expect(keys.key(matching: Self.adminKey + "x") == nil)
        #expect(keys.key(matching: "") == nil)
    }

    @Test func theVariableTakesEntriesSeparatedByCommasAndItsErrorsNameTheEntry() throws {
        let keys = try APIKeys.parse(entries: "admin \(Self.adminKey) ops, infer \(Self.inferKey)", source: "FIXSERVE_API_KEYS")
        #expect(keys.keys.count == 2 && keys.key(matching: Self.inferKey)?.role == .infer)
        do {
            _ = try APIKeys.parse(entries: "admin \(Self.adminKey),reader \(Self.inferKey)", source: "FIXSERVE_API_KEYS")
            Issue.record("an unknown role was accepted")
        } catch let error as APIKeyFileError {
            #expect("\(error)".hasPrefix("FIXSERVE_API_KEYS, entry 2: the first field must be the role"), "\(error)")
        }
        // A key in both the file and the variable has two roles at best.
        #expect(throws: APIKeyFileError.self) { try keys.adding(APIKeys.parse("infer \(Self.adminKey)", source: "f"), source: "FIXSERVE_API_KEYS") }
    }

    @Test func badLinesAreRefusedWithTheirLineNumberAndNeverTheKey() throws {
        let good = "admin \(Self.adminKey) ops\n"
        let secret = "a-secret-key-nobody-may-see-0123"
        let cases: [(text: String, line: Int, says: String)] = [
            (good + secret, 2, "expected \"<role> <credential> [<name>]\""),
            (good + "\(secret) admin", 2, "the first field must be the role, infer or admin"),
            (good + "Admin \(secret)", 2, "the first field must be the role"),
            (good + "infer \(secret) name extra", 2, "found 4 fields"),
            (good + "# comment\ninfer short", 3, "at least 16 characters, this one has 5"),
            (good + "infer \(secret)\"quoted\"", 2, "only letters, digits and -._~+/"),
            (good + "infer \(secret)=x", 2, "then any '='"),
            (good + "infer sha256:abc", 2, "64 hexadecimal digits; found 3"),
            (good + "infer sha256:" + String(repeating: "g", count: 64), 2, "64 hexadecimal digits"),
            (good + "infer \(secret) bad/name", 2, "the name \"bad/name\" must be"),
            (good + "\n\ninfer \(Self.adminKey)", 4, "this key is also on line 1"),
        ]
        for (text, line, says) in cases {
            let error = try #require(parseError(text), "accepted: \(text)")
            #expect(error.line == line, "\(error)")
            #expect("\(error)".hasPrefix("/etc/fixserve/api-keys, line \(line): "), "\(error)")
            #expect(error.message.contains(says), "\(error)")
            #expect(!"\(error)".contains(secret) && !"\(error)".contains(Self.adminKey), "the error shows a key: \(error)")
        }
        let empty = try #require(parseError("# nothing but comments\n\n"))
        #expect(empty.line == nil && empty.message.contains("holds no key"), "\(empty)")
    }

    @Test func aFileThatCannotBeReadSaysSo() throws {
        let missing = URL(fileURLWithPath: "/nonexistent/fixserve-keys-\(UUID().uuidString)")
        do {
            _ = try APIKeys.load(contentsOf: missing)
            Issue.record("a missing file was read")
        } catch let error as APIKeyFileError {
            #expect(error.source == missing.path && error.message.contains("cannot be read"), "\(error)")
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("keys-\(UUID().uuidString)")
        try Data("admin \(Self.adminKey)\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(try APIKeys.load(contentsOf: file).key(matching: Self.adminKey)?.role == .admin)
    }

    /// The example Secret in deploy/ is a key file the server reads (so pods start with it).
    @Test func theDeploySecretsExampleIsAValidKeyFile() throws {
        let manifest = try String(contentsOf: OpenAPIConformanceTests.packageRoot.appendingPathComponent("deploy/kubernetes/api-keys-secret.yaml"),
                                  encoding: .utf8)
        let lines = manifest.split(separator: "\n", omittingEmptySubsequences: false)
        let start = try #require(lines.firstIndex { $0.trimmingCharacters(in: .whitespaces) == "api-keys: |" })
        let block = lines[(start + 1)...].prefix { $0.hasPrefix("    ") }.map { $0.dropFirst(4) }.joined(separator: "\n")
        let keys = try APIKeys.parse(block, source: "api-keys-secret.yaml")
        #expect(keys.keys.map(\.role) == [.admin] && keys.keys[0].name == "replace-me")
    }

    @Test func rolesGrantTheirOwnRoutesAndAdminGrantsAll() {
        #expect(Role.admin.grants(.admin) && Role.admin.grants(.infer))
        #expect(Role.infer.grants(.infer) && !Role.infer.grants(.admin))
    }
}

@Suite struct ListenAddressPolicyTests {
    @Test func withoutKeysTheDefaultIsLoopbackAndAPublicHostIsRefused() throws {
        #expect(try ListenAddressPolicy.host(requested: nil, hasKeys: false, insecurePublic: false) == "127.0.0.1")
        #expect(try ListenAddressPolicy.host(requested: "", hasKeys: false, insecurePublic: false) == "127.0.0.1")
        #expect(try ListenAddressPolicy.host(requested: "127.0.0.2", hasKeys: false, insecurePublic: false) == "127.0.0.2")
        #expect(try ListenAddressPolicy.host(requested: "::1", hasKeys: false, insecurePublic: false) == "::1")
        for host in ["0.0.0.0", "10.1.2.3", "::", "128.0.0.1", "127.0.0.300", "example.org"] {
            #expect(throws: ListenAddressPolicy.Refusal(host: host)) {
                try ListenAddressPolicy.host(requested: host, hasKeys: false, insecurePublic: false)
            }
        }
        #expect("\(ListenAddressPolicy.Refusal(host: "0.0.0.0"))".contains("--insecure-public"))
    }

    @Test func keysOrInsecurePublicAllowEveryHost() throws {
        #expect(try ListenAddressPolicy.host(requested: nil, hasKeys: true, insecurePublic: false) == "0.0.0.0")
        #expect(try ListenAddressPolicy.host(requested: nil, hasKeys: false, insecurePublic: true) == "0.0.0.0")
        #expect(try ListenAddressPolicy.host(requested: "10.1.2.3", hasKeys: true, insecurePublic: false) == "10.1.2.3")
        #expect(try ListenAddressPolicy.host(requested: "0.0.0.0", hasKeys: false, insecurePublic: true) == "0.0.0.0")
    }
}
