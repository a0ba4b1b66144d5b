import COpenSSL
import COpenSSLShims

/// Server-side TLS settings shared by every connection: TLS 1.2 and 1.3 only, ALPN preferring
/// `h2` then `http/1.1`, certificate chain and private key read from PEM files.
public final class TLSContext: @unchecked Sendable {
    // Immutable after init; OpenSSL allows SSL_new on one SSL_CTX from many threads.
    let context: OpaquePointer

    /// Loads the certificate chain and the private key.
    /// - Parameters:
    ///   - certificatePath: PEM file with the server certificate first, then any intermediates.
    ///   - privateKeyPath: PEM file with the unencrypted private key matching the certificate.
    /// - Throws: `TLSError` naming the step and file that failed, with OpenSSL's messages.
    public init(certificatePath: String, privateKeyPath: String) throws {
        TLSError.clearErrorQueue()
        guard let context = SSL_CTX_new(TLS_server_method()) else {
            throw TLSError.drainingErrorQueue(.createContext)
        }
        self.context = context
        guard fixserve_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1,
              fixserve_SSL_CTX_set_max_proto_version(context, TLS1_3_VERSION) == 1 else {
            throw TLSError.drainingErrorQueue(.configureProtocols)
        }
        _ = fixserve_SSL_CTX_set_mode(context, Int(SSL_MODE_RELEASE_BUFFERS))
        // Renegotiation is a denial-of-service vector and HTTP/2 forbids it.
        _ = fixserve_SSL_CTX_set_server_options(context)
        guard SSL_CTX_use_certificate_chain_file(context, certificatePath) == 1 else {
            throw TLSError.drainingErrorQueue(.loadCertificate, path: certificatePath)
        }
        guard SSL_CTX_use_PrivateKey_file(context, privateKeyPath, SSL_FILETYPE_PEM) == 1 else {
            throw TLSError.drainingErrorQueue(.loadPrivateKey, path: privateKeyPath)
        }
        guard SSL_CTX_check_private_key(context) == 1 else {
            throw TLSError.drainingErrorQueue(.checkPrivateKey, path: privateKeyPath)
        }
        fixserve_SSL_CTX_select_h2_then_http11(context)
    }

    deinit {
        SSL_CTX_free(context)
    }
}
