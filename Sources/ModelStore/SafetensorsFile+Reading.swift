import Foundation
import Numerics

extension SafetensorsFile {
    /// Reads the file at `url` with one read and validates it.
    /// - Parameter headerLimit: the largest header length accepted, in bytes.
    /// - Throws: `SafetensorsError`, one case per way the file can be wrong; never traps on bad input.
    public init(contentsOf url: URL, headerLimit: Int = SafetensorsFile.defaultHeaderLimit) throws {
        let bytes: Data
        do {
            // One read, not a mapping: a mapped file truncated by a concurrent copy raises SIGBUS.
            bytes = try Data(contentsOf: url)
        } catch {
            throw SafetensorsError.io(path: url.path, problem: "cannot read: \(error.localizedDescription)")
        }
        try self.init(bytes: bytes, headerLimit: headerLimit)
    }

    /// Parses and validates a whole file held in memory.
    /// - Throws: `SafetensorsError` naming the tensor and the problem.
    public init(bytes: Data, headerLimit: Int = SafetensorsFile.defaultHeaderLimit) throws {
        let (tensors, metadata) = try bytes.withUnsafeBytes { try Self.parse($0, headerLimit: headerLimit) }
        self.init(tensors: tensors, metadata: metadata)
    }

    private static func parse(
        _ file: UnsafeRawBufferPointer, headerLimit: Int
    ) throws -> ([String: Tensor], [String: String]) {
        guard file.count >= 8 else { throw SafetensorsError.fileTooShort(size: file.count) }
        let headerLength = UInt64(littleEndian: file.loadUnaligned(as: UInt64.self))
        guard headerLength <= UInt64(headerLimit) else {
            throw SafetensorsError.headerTooLarge(headerLength: headerLength, limit: headerLimit)
        }
        guard headerLength <= UInt64(file.count - 8) else {
            throw SafetensorsError.headerLengthPastEnd(headerLength: headerLength, fileSize: file.count)
        }
        let dataStart = 8 + Int(headerLength)
        let header = try decodeHeader(Data(file[8..<dataStart]))
        let data = UnsafeRawBufferPointer(rebasing: file[dataStart...])

        var placed: [(name: String, begin: Int, end: Int, dtype: SafetensorsDType, shape: [Int])] = []
        for (name, entry) in header.entries.sorted(by: { $0.key < $1.key }) {
            placed.append(try validate(entry, named: name, dataLength: data.count))
        }
        try checkCoverage(placed.map { ($0.name, $0.begin, $0.end) }, dataLength: data.count)

        var tensors: [String: Tensor] = [:]
        tensors.reserveCapacity(placed.count)
        for t in placed {
            let bytes = UnsafeRawBufferPointer(rebasing: data[t.begin..<t.end])
            tensors[t.name] = Tensor(shape: t.shape, data: decodeElements(bytes, dtype: t.dtype))
        }
        return (tensors, header.metadata)
    }

    /// Checks one entry on its own: dtype, dimensions, offsets, byte length.
    private static func validate(
        _ entry: HeaderEntry, named name: String, dataLength: Int
    ) throws -> (name: String, begin: Int, end: Int, dtype: SafetensorsDType, shape: [Int]) {
        guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
            throw SafetensorsError.unsupportedDType(tensor: name, dtype: entry.dtype)
        }
        if let bad = entry.shape.first(where: { $0 < 0 }) {
            throw SafetensorsError.invalidEntry(tensor: name, problem: "negative dimension \(bad) in shape \(entry.shape)")
        }
        guard entry.dataOffsets.count == 2 else {
            throw SafetensorsError.invalidEntry(
                tensor: name, problem: "data_offsets must hold 2 numbers, found \(entry.dataOffsets.count)")
        }
        var bytes = dtype.size
        for dimension in entry.shape {
            let (product, overflow) = bytes.multipliedReportingOverflow(by: dimension)
            guard !overflow else { throw SafetensorsError.shapeOverflow(tensor: name, shape: entry.shape) }
            bytes = product
        }
        let begin = entry.dataOffsets[0], end = entry.dataOffsets[1]
        guard begin >= 0, begin <= end, end <= dataLength else {
            throw SafetensorsError.offsetsOutOfRange(tensor: name, begin: begin, end: end, dataLength: dataLength)
        }
        guard end - begin == bytes else {
            throw SafetensorsError.byteLengthMismatch(
                tensor: name, shape: entry.shape, dtype: dtype.rawValue, expectedBytes: bytes, actualBytes: end - begin)
        }
        return (name, begin, end, dtype, entry.shape)
    }

    /// The tensors must tile the data section exactly: no shared bytes, no orphan bytes.
    private static func checkCoverage(_ ranges: [(name: String, begin: Int, end: Int)], dataLength: Int) throws {
        var cursor = 0
        var previous: String?
        for range in ranges.sorted(by: { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }) {
            if range.begin < cursor, let previous {
                throw SafetensorsError.overlappingTensors(previous, range.name)
            }
            if range.begin > cursor {
                throw SafetensorsError.gapInData(after: previous, begin: cursor, end: range.begin)
            }
            cursor = range.end
            previous = range.name
        }
        if cursor < dataLength {
            throw SafetensorsError.gapInData(after: previous, begin: cursor, end: dataLength)
        }
    }

    /// Converts little-endian elements of `dtype` to Float32: F32 bit for bit, F16 and BF16
    /// exactly, F64 rounded to nearest.
    private static func decodeElements(_ bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType) -> [Float] {
        let count = bytes.count / dtype.size
        return [Float](unsafeUninitializedCapacity: count) { out, initialized in
            switch dtype {
            case .f32:
                #if _endian(little)
                UnsafeMutableRawBufferPointer(out).copyMemory(from: bytes)
                #else
                for i in 0..<count {
                    out[i] = Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                }
                #endif
            case .f16:
                for i in 0..<count {
                    out[i] = halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
                }
            case .bf16:
                for i in 0..<count {
                    let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))
                    out[i] = Float(bitPattern: UInt32(bits) << 16)
                }
            case .f64:
                for i in 0..<count {
                    let bits = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))
                    out[i] = Float(Double(bitPattern: bits))
                }
            }
            initialized = count
        }
    }

    /// IEEE binary16 → binary32, exact (every half value is a float), NaN payloads kept.
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h) & 0x3FF
        switch exponent {
        case 0:
            let magnitude = Float(mantissa) * 0x1p-24
            return sign == 0 ? magnitude : -magnitude
        case 0x1F:
            return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13)
        default:
            return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
        }
    }

    private static func decodeHeader(_ json: Data) throws -> SafetensorsHeader {
        do {
            return try JSONDecoder().decode(SafetensorsHeader.self, from: json)
        } catch let error as SafetensorsError {
            throw error
        } catch let DecodingError.dataCorrupted(context) {
            let detail = (context.underlyingError as NSError?)?.localizedDescription ?? context.debugDescription
            throw SafetensorsError.invalidHeader("not valid JSON (\(detail))")
        } catch let DecodingError.typeMismatch(_, context) where context.codingPath.isEmpty {
            throw SafetensorsError.invalidHeader("not a JSON object")
        } catch {
            throw SafetensorsError.invalidHeader("\(error)")
        }
    }
}

/// One tensor's entry in the header.
struct HeaderEntry: Decodable {
    var dtype: String
    var shape: [Int]
    var dataOffsets: [Int]

    private enum Key: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        dtype = try c.decode(String.self, forKey: .dtype)
        shape = try c.decode([Int].self, forKey: .shape)
        dataOffsets = try c.decode([Int].self, forKey: .dataOffsets)
    }
}

/// The header object: tensor entries plus optional metadata, decoded key by key so a bad
/// entry is reported under its tensor's name.
struct SafetensorsHeader: Decodable {
    var entries: [String: HeaderEntry] = [:]
    var metadata: [String: String] = [:]

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        for key in c.allKeys {
            if key.stringValue == SafetensorsFile.metadataKey {
                guard let metadata = try? c.decode([String: String].self, forKey: key) else {
                    throw SafetensorsError.invalidHeader("__metadata__ must be an object of strings")
                }
                self.metadata = metadata
                continue
            }
            do {
                entries[key.stringValue] = try c.decode(HeaderEntry.self, forKey: key)
            } catch let error as DecodingError {
                throw SafetensorsError.invalidEntry(tensor: key.stringValue, problem: Self.describe(error))
            } catch {
                // Foundation reports numbers that do not fit the type (1.5 for an Int) this way.
                throw SafetensorsError.invalidEntry(tensor: key.stringValue, problem: "a value has the wrong type (\(error))")
            }
        }
    }

    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case let .keyNotFound(key, _): return "missing \"\(key.stringValue)\""
        case let .typeMismatch(_, context), let .valueNotFound(_, context), let .dataCorrupted(context):
            let field = context.codingPath.dropFirst().map(\.stringValue).first ?? "entry"
            return "\"\(field)\" has the wrong type (\(context.debugDescription))"
        @unknown default: return "\(error)"
        }
    }
}
