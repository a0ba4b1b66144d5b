import COpenSSL

/// SHA-256 through OpenSSL, for the layers above that may not import it (API keys are kept
/// and compared as digests).
public enum SHA256Digest {
    /// The length of a digest in bytes.
    public static let byteCount = 32

    /// The 32-byte SHA-256 digest of `bytes`.
    ///
    /// - Throws: `TLSError` (`.digest`) when OpenSSL cannot compute it (no SHA-256 in its
    ///   configured providers, or no memory).
    public static func digest(of bytes: [UInt8]) throws -> [UInt8] {
        // EVP_MAX_MD_SIZE bytes, so that no configuration can make OpenSSL write past the end.
        var output = [UInt8](repeating: 0, count: 64)
        var length: UInt32 = 0
        let status = bytes.withUnsafeBytes { input in
            output.withUnsafeMutableBufferPointer { out in
                EVP_Digest(input.baseAddress, input.count, out.baseAddress, &length, EVP_sha256(), nil)
            }
        }
        guard status == 1, Int(length) == byteCount else { throw TLSError.drainingErrorQueue(.digest) }
        return Array(output[..<byteCount])
    }

    /// The digest of `text`'s UTF-8 bytes as 64 lowercase hexadecimal digits.
    public static func hexDigest(of text: String) throws -> String {
        try digest(of: Array(text.utf8)).map { byte in
            let digits = Array("0123456789abcdef".utf8)
            return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
        }.joined()
    }
}
