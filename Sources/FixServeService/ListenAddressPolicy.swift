/// Where a server may listen, given whether it checks API keys: one without keys serves every
/// caller everything (training jobs included), so it listens on loopback unless told otherwise.
public enum ListenAddressPolicy {
    /// The address to bind when no host is given and the server has keys (or may be public).
    public static let publicDefault = "0.0.0.0"
    /// The address to bind when no host is given and the server has no keys.
    public static let loopbackDefault = "127.0.0.1"

    /// Why a server cannot listen where it was asked to.
    public struct Refusal: Error, Equatable, CustomStringConvertible {
        public var host: String

        public init(host: String) { self.host = host }

        public var description: String {
            "refusing to listen on \(host) without API keys: anyone who can reach it could train, load and unload models. "
                + "Give keys (--auth-file PATH or FIXSERVE_AUTH_FILE, or FIXSERVE_API_KEYS; see `fixserve auth digest --help`), "
                + "listen on 127.0.0.1, or pass --insecure-public (FIXSERVE_INSECURE_PUBLIC=true) to serve everyone"
        }
    }

    /// The address to bind.
    ///
    /// - Parameters:
    ///   - host: the host asked for; nil or empty when none was given.
    ///   - hasKeys: whether API keys are configured.
    ///   - insecurePublic: the operator accepts serving everyone on any address.
    /// - Throws: `Refusal` for a host that is not loopback on a server without keys or `insecurePublic`.
    public static func host(requested host: String?, hasKeys: Bool, insecurePublic: Bool) throws -> String {
        let open = hasKeys || insecurePublic
        guard let host, !host.isEmpty else { return open ? publicDefault : loopbackDefault }
        guard open || isLoopback(host) else { throw Refusal(host: host) }
        return host
    }

    /// Whether `host` names only this machine: 127.0.0.0/8, ::1 or localhost.
    public static func isLoopback(_ host: String) -> Bool {
        let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
        if bare == "localhost" || bare == "::1" { return true }
        let octets = bare.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }
}
