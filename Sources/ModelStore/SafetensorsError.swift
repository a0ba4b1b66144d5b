/// Why a safetensors file was refused. Every case names the tensor (when there is one) and the
/// numbers that do not fit, so a user can find the fault without a hex editor.
public enum SafetensorsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file is shorter than the 8-byte header length prefix.
    case fileTooShort(size: Int)
    /// The header length prefix points past the end of the file.
    case headerLengthPastEnd(headerLength: UInt64, fileSize: Int)
    /// The header length prefix exceeds the hard cap on header size.
    case headerTooLarge(headerLength: UInt64, limit: Int)
    /// The header is not a JSON object of the expected form.
    case invalidHeader(String)
    /// One tensor's header entry is malformed (missing key, wrong type, negative dimension, …).
    case invalidEntry(tensor: String, problem: String)
    /// The tensor's dtype is not one the reader accepts (F32, F16, BF16, F64).
    case unsupportedDType(tensor: String, dtype: String)
    /// The element count times the dtype size does not fit in an Int.
    case shapeOverflow(tensor: String, shape: [Int])
    /// shape × dtype size differs from the byte length given by `data_offsets`.
    case byteLengthMismatch(tensor: String, shape: [Int], dtype: String, expectedBytes: Int, actualBytes: Int)
    /// `data_offsets` are reversed or reach beyond the data section.
    case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataLength: Int)
    /// Two tensors share bytes of the data section.
    case overlappingTensors(String, String)
    /// Bytes of the data section belong to no tensor (`after` is nil for a gap at the start).
    case gapInData(after: String?, begin: Int, end: Int)
    /// The file could not be read or written.
    case io(path: String, problem: String)

    public var description: String {
        switch self {
        case let .fileTooShort(size):
            return "file is \(size) bytes, shorter than the 8-byte header length"
        case let .headerLengthPastEnd(length, size):
            return "header length \(length) reaches past the end of the \(size)-byte file"
        case let .headerTooLarge(length, limit):
            return "header length \(length) exceeds the limit of \(limit) bytes"
        case let .invalidHeader(problem):
            return "invalid header: \(problem)"
        case let .invalidEntry(tensor, problem):
            return "tensor '\(tensor)': \(problem)"
        case let .unsupportedDType(tensor, dtype):
            return "tensor '\(tensor)': unsupported dtype \(dtype) (accepted: F32, F16, BF16, F64)"
        case let .shapeOverflow(tensor, shape):
            return "tensor '\(tensor)': shape \(shape) is too large to address"
        case let .byteLengthMismatch(tensor, shape, dtype, expected, actual):
            return "tensor '\(tensor)': shape \(shape) of \(dtype) needs \(expected) bytes, data_offsets give \(actual)"
        case let .offsetsOutOfRange(tensor, begin, end, length):
            return "tensor '\(tensor)': data_offsets [\(begin), \(end)] are outside the \(length)-byte data section"
        case let .overlappingTensors(a, b):
            return "tensors '\(a)' and '\(b)' overlap in the data section"
        case let .gapInData(after, begin, end):
            let place = after.map { "after tensor '\($0)'" } ?? "at the start of the data section"
            return "bytes [\(begin), \(end)) \(place) belong to no tensor"
        case let .io(path, problem):
            return "\(path): \(problem)"
        }
    }
}
