import COpenSSL

/// A failure reported by OpenSSL, with the library's own description of every queued error.
public struct TLSError: Error, CustomStringConvertible, Sendable {
    /// What FixServe was doing when OpenSSL failed.
    public enum Operation: String, Sendable {
        case createContext = "creating the TLS context"
        case loadCertificate = "loading the certificate chain"
        case loadPrivateKey = "loading the private key"
        case checkPrivateKey = "checking that the private key matches the certificate"
        case configureProtocols = "configuring the TLS protocol versions"
        case createConnection = "creating a TLS connection"
        case handshake = "performing the TLS handshake"
        case read = "decrypting data from the peer"
        case write = "encrypting data for the peer"
        case digest = "computing a SHA-256 digest"
    }

    /// The operation that failed.
    public var operation: Operation
    /// OpenSSL's messages, oldest first (may be empty when OpenSSL queued nothing).
    public var messages: [String]
    /// The file involved, for certificate and key loading.
    public var path: String?

    public var description: String {
        var text = "TLS error while \(operation.rawValue)"
        if let path { text += " (\(path))" }
        if !messages.isEmpty { text += ": " + messages.joined(separator: "; ") }
        return text
    }

    /// Builds an error from OpenSSL's thread-local error queue, emptying the queue.
    static func drainingErrorQueue(_ operation: Operation, path: String? = nil) -> TLSError {
        var messages: [String] = []
        var buffer = [CChar](repeating: 0, count: 256)
        // The queue is bounded by OpenSSL (16 entries); the cap guards against a misbehaving build.
        for _ in 0..<32 {
            let code = ERR_get_error()
            if code == 0 { break }
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(cString: buffer))
        }
        return TLSError(operation: operation, messages: messages, path: path)
    }

    /// Discards whatever a previous failure left in the thread's error queue.
    static func clearErrorQueue() {
        ERR_clear_error()
    }
}
