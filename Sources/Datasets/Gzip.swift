import CZlib

/// zlib's inflate behind Swift types; the only file in this module that calls zlib.
enum Gzip {
    enum Failure: Error, Equatable {
        /// zlib rejected the stream; the message is zlib's.
        case corrupt(String)
        /// The output would exceed the caller's limit.
        case tooLarge
    }

    /// Whether `bytes` starts with the gzip magic number 1F 8B.
    static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed contents of the gzip data `input` (all members, concatenated), at most
    /// `maxOutputBytes` long.
    static func inflate(_ input: [UInt8], maxOutputBytes: Int) throws -> [UInt8] {
        guard input.count <= Int(UInt32.max) else { throw Failure.tooLarge }
        // The trailer's ISIZE (length mod 2³²) is a good first guess for the output size.
        let declared = input.count >= 4
            ? input.suffix(4).reversed().reduce(0) { $0 << 8 | Int($1) }
            : 0
        // Deflate expands at most about 1032:1, which bounds a lying trailer's first allocation.
        let guess = min(max(declared, 1 << 16), input.count.multipliedReportingOverflow(by: 1032).partialValue)
        var output = [UInt8](repeating: 0, count: max(min(guess, maxOutputBytes + 1), 1))
        var produced = 0

        var stream = z_stream()
        // 15 + 16: the largest window, gzip framing only.
        guard inflateInit2_(&stream, 15 + 16, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw Failure.corrupt(message(stream, fallback: "cannot initialise zlib"))
        }
        defer { inflateEnd(&stream) }

        try input.withUnsafeBufferPointer { source in
            stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.avail_in = UInt32(source.count)
            while true {
                if produced == output.count {
                    guard output.count <= maxOutputBytes else { throw Failure.tooLarge }
                    output.append(contentsOf: repeatElement(0, count: min(output.count, maxOutputBytes + 1 - output.count)))
                }
                let status: Int32 = output.withUnsafeMutableBufferPointer { out in
                    let room = min(out.count - produced, Int(UInt32.max))
                    stream.next_out = out.baseAddress! + produced
                    stream.avail_out = UInt32(room)
                    let status = CZlib.inflate(&stream, Z_NO_FLUSH)
                    produced += room - Int(stream.avail_out)
                    return status
                }
                switch status {
                case Z_OK:
                    continue
                case Z_STREAM_END:
                    guard stream.avail_in > 0 else { return }
                    // Another gzip member follows (as `cat a.gz b.gz` produces), or junk.
                    let next = source.count - Int(stream.avail_in)
                    guard source.count - next >= 2, source[next] == 0x1F, source[next + 1] == 0x8B else {
                        throw Failure.corrupt("\(stream.avail_in) bytes of trailing garbage after the gzip stream")
                    }
                    guard inflateReset(&stream) == Z_OK else { throw Failure.corrupt(message(stream, fallback: "reset failed")) }
                case Z_BUF_ERROR where stream.avail_in == 0:
                    throw Failure.corrupt("unexpected end of data (the file is truncated)")
                case Z_BUF_ERROR:
                    continue
                default:
                    throw Failure.corrupt(message(stream, fallback: "zlib error \(status)"))
                }
            }
        }
        guard produced <= maxOutputBytes else { throw Failure.tooLarge }
        output.removeLast(output.count - produced)
        return output
    }

    private static func message(_ stream: z_stream, fallback: String) -> String {
        stream.msg.map { String(cString: $0) } ?? fallback
    }
}
