import Foundation

/// An IDX array of unsigned bytes, the format of MNIST and Fashion-MNIST: a 4-byte magic
/// number `00 00 08 <rank>`, `rank` big-endian UInt32 dimensions, then the elements row-major.
public struct IDXFile: Equatable, Sendable {
    /// The size of each dimension, outermost first.
    public let shape: [Int]
    /// `shape.reduce(1, *)` elements, row-major.
    public let bytes: [UInt8]

    /// 256 MiB: several times the largest MNIST-family file.
    public static let defaultMaxBytes = 256 << 20

    /// Reads the IDX file at `url`, inflating it first if it is gzip-compressed (detected by
    /// its magic number, not its name).
    ///
    /// - Parameter maxBytes: the largest file size, before and after decompression.
    /// - Throws: `DatasetError` — `.unreadableFile`, `.fileTooLarge`, `.corruptGzip`, `.inflatedTooLarge`,
    ///   `.badMagic`, `.unsupportedTypeCode`, `.truncated`, `.trailingBytes`.
    public init(contentsOf url: URL, maxBytes: Int = IDXFile.defaultMaxBytes) throws {
        let path = url.path
        let raw: [UInt8]
        do {
            let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as? Int ?? 0
            guard size <= maxBytes else { throw DatasetError.fileTooLarge(path: path, byteCount: size, limit: maxBytes) }
            raw = [UInt8](try Data(contentsOf: url))
        } catch let error as DatasetError {
            throw error
        } catch {
            throw DatasetError.unreadableFile(path: path, reason: (error as NSError).localizedDescription)
        }
        var contents = raw
        if Gzip.isCompressed(raw) {
            do {
                contents = try Gzip.inflate(raw, maxOutputBytes: maxBytes)
            } catch Gzip.Failure.corrupt(let reason) {
                throw DatasetError.corruptGzip(path: path, reason: reason)
            } catch {
                throw DatasetError.inflatedTooLarge(path: path, limit: maxBytes)
            }
        }
        try self.init(parsing: contents, path: path)
    }

    /// Parses IDX `contents`; `path` only names the file in errors.
    ///
    /// - Throws: `DatasetError.badMagic`, `.unsupportedTypeCode`, `.truncated`, `.trailingBytes`.
    public init(parsing contents: [UInt8], path: String) throws {
        guard contents.count >= 4, contents[0] == 0, contents[1] == 0 else {
            throw DatasetError.badMagic(path: path, found: Array(contents.prefix(4)))
        }
        guard contents[2] == 0x08 else { throw DatasetError.unsupportedTypeCode(path: path, code: contents[2]) }
        let rank = Int(contents[3])
        guard rank > 0 else {
            throw DatasetError.unsupportedShape(path: path, shape: [], expected: "at least one dimension")
        }
        let headerSize = 4 + 4 * rank
        guard contents.count >= headerSize else {
            throw DatasetError.truncated(path: path, expectedBytes: headerSize, actualBytes: contents.count)
        }
        var shape = [Int]()
        var elements = 1
        for d in 0..<rank {
            let offset = 4 + 4 * d
            let size = contents[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            shape.append(size)
            let (product, overflow) = elements.multipliedReportingOverflow(by: size)
            guard !overflow, product <= Int.max - headerSize else {
                throw DatasetError.truncated(path: path, expectedBytes: Int.max, actualBytes: contents.count)
            }
            elements = product
        }
        let expected = headerSize + elements
        guard contents.count >= expected else {
            throw DatasetError.truncated(path: path, expectedBytes: expected, actualBytes: contents.count)
        }
        guard contents.count == expected else {
            throw DatasetError.trailingBytes(path: path, expectedBytes: expected, actualBytes: contents.count)
        }
        self.shape = shape
        self.bytes = Array(contents[headerSize...])
    }

    /// An IDX array to be written; `bytes.count` must equal `shape.reduce(1, *)`.
    public init(shape: [Int], bytes: [UInt8]) {
        precondition(!shape.isEmpty && shape.count < 256 && shape.allSatisfy { $0 >= 0 && $0 <= Int(UInt32.max) })
        precondition(bytes.count == shape.reduce(1, *), "\(bytes.count) bytes do not fill shape \(shape)")
        self.shape = shape
        self.bytes = bytes
    }

    /// The uncompressed IDX encoding of this array.
    public var encoded: [UInt8] {
        var out: [UInt8] = [0, 0, 0x08, UInt8(shape.count)]
        for size in shape {
            out += [UInt8(size >> 24 & 0xFF), UInt8(size >> 16 & 0xFF), UInt8(size >> 8 & 0xFF), UInt8(size & 0xFF)]
        }
        return out + bytes
    }
}
