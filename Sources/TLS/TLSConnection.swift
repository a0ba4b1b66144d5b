import COpenSSL
import COpenSSLShims

/// The server side of one TLS session over memory buffers: the caller owns the socket, feeds
/// ciphertext in and takes ciphertext out. Not thread-safe; use it from one serial queue.
public final class TLSConnection {
    /// What reading plaintext found.
    public enum ReadResult: Equatable {
        /// All decryptable bytes were delivered; more ciphertext is needed.
        case needMoreCiphertext
        /// The peer sent close_notify; no more plaintext will come.
        case closed
    }

    private let ssl: OpaquePointer
    // Owned by `ssl` after SSL_set_bio; kept to move bytes in and out.
    private let networkIn: OpaquePointer
    private let networkOut: OpaquePointer
    private var scratch = [UInt8](repeating: 0, count: 16 * 1024)

    /// Creates a session in server (accept) mode.
    /// - Throws: `TLSError` when OpenSSL cannot allocate the session.
    public init(context: TLSContext) throws {
        TLSError.clearErrorQueue()
        guard let ssl = SSL_new(context.context) else {
            throw TLSError.drainingErrorQueue(.createConnection)
        }
        guard let networkIn = BIO_new(BIO_s_mem()), let networkOut = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError.drainingErrorQueue(.createConnection)
        }
        // An empty input buffer means "try again later", not end of file.
        _ = fixserve_BIO_set_mem_eof_return(networkIn, -1)
        _ = fixserve_BIO_set_mem_eof_return(networkOut, -1)
        SSL_set_bio(ssl, networkIn, networkOut)
        SSL_set_accept_state(ssl)
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut
    }

    deinit {
        SSL_free(ssl)
    }

    /// True once the handshake finished; `negotiatedProtocol` is meaningful from then on.
    public var isHandshakeComplete: Bool {
        SSL_is_init_finished(ssl) == 1
    }

    /// The ALPN protocol the handshake selected (`"h2"`, `"http/1.1"`), or nil when none was.
    public var negotiatedProtocol: String? {
        var data: UnsafePointer<UInt8>?
        var length: UInt32 = 0
        SSL_get0_alpn_selected(ssl, &data, &length)
        guard let data, length > 0 else { return nil }
        return String(decoding: UnsafeBufferPointer(start: data, count: Int(length)), as: UTF8.self)
    }

    /// Hands ciphertext received from the peer to the session.
    public func receiveCiphertext(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        // Memory BIOs grow as needed, so the write takes everything.
        _ = BIO_write(networkIn, base, Int32(bytes.count))
    }

    /// Runs the handshake as far as the received ciphertext allows and appends every byte of
    /// plaintext it can decrypt to `plaintext`.
    /// - Throws: `TLSError` for a failed handshake or a corrupt record.
    public func readPlaintext(appendingTo plaintext: inout [UInt8]) throws -> ReadResult {
        TLSError.clearErrorQueue()
        let capacity = Int32(scratch.count)
        while true {
            let count = scratch.withUnsafeMutableBytes { SSL_read(ssl, $0.baseAddress, capacity) }
            if count > 0 {
                plaintext.append(contentsOf: scratch[0..<Int(count)])
                continue
            }
            switch SSL_get_error(ssl, count) {
            case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
                return .needMoreCiphertext
            case SSL_ERROR_ZERO_RETURN:
                return .closed
            default:
                throw TLSError.drainingErrorQueue(isHandshakeComplete ? .read : .handshake)
            }
        }
    }

    /// Encrypts `bytes`; the records become available through `takeCiphertext`.
    /// - Throws: `TLSError` when the session cannot encrypt (for example before the handshake).
    public func writePlaintext(_ bytes: UnsafeRawBufferPointer) throws {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        TLSError.clearErrorQueue()
        var offset = 0
        // Memory BIOs never fill, so SSL_write only stops short on error.
        while offset < bytes.count {
            let chunk = Int32(min(bytes.count - offset, Int(Int32.max)))
            let written = SSL_write(ssl, base + offset, chunk)
            guard written > 0 else { throw TLSError.drainingErrorQueue(.write) }
            offset += Int(written)
        }
    }

    /// Queues a close_notify alert for the peer.
    public func close() {
        TLSError.clearErrorQueue()
        _ = SSL_shutdown(ssl)
        TLSError.clearErrorQueue()
    }

    /// Number of ciphertext bytes waiting to be sent.
    public var pendingCiphertextCount: Int {
        Int(BIO_ctrl_pending(networkOut))
    }

    /// Moves all pending ciphertext to the end of `output`.
    public func takeCiphertext(appendingTo output: inout [UInt8]) {
        let pending = pendingCiphertextCount
        guard pending > 0 else { return }
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: pending))
        let read = output.withUnsafeMutableBytes { buffer in
            BIO_read(networkOut, buffer.baseAddress! + start, Int32(pending))
        }
        output.removeLast(pending - max(0, Int(read)))
    }
}
