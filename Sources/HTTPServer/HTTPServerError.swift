import Glibc

/// Why the server could not start.
public enum HTTPServerError: Error, CustomStringConvertible, Sendable {
    /// The host name did not resolve to a usable address.
    case addressResolution(host: String, port: Int, message: String)
    /// A socket call failed; `call` names it and `errno` is the system error.
    case socket(call: String, host: String, port: Int, errno: Int32)
    /// The TLS files could not be loaded (the underlying error carries OpenSSL's messages).
    case tls(underlying: Error)
    /// `start()` was called on a server that is running or was shut down.
    case notStartable

    public var description: String {
        switch self {
        case let .addressResolution(host, port, message):
            return "cannot resolve \(host):\(port): \(message)"
        case let .socket(call, host, port, code):
            return "\(call) failed for \(host):\(port): \(String(cString: strerror(code))) (errno \(code))"
        case let .tls(underlying):
            return "\(underlying)"
        case .notStartable:
            return "the server can only be started once"
        }
    }
}
