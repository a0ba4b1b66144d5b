import Numerics

/// The contents of a safetensors file: named tensors and free-form string metadata.
///
/// On disk: an 8-byte little-endian header length n, n bytes of JSON header
/// `{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {String: String}}`
/// padded with spaces to a multiple of 8, then the raw little-endian tensor data; offsets are
/// relative to the start of the data section. FixServe writes F32 only and reads F32, F16, BF16
/// and F64, widening or rounding to Float32 (see docs/MODEL_FORMAT.md).
public struct SafetensorsFile: Equatable, Sendable {
    /// The tensors by name.
    public var tensors: [String: Tensor]
    /// The `__metadata__` object; empty when the file has none.
    public var metadata: [String: String]

    /// A file holding `tensors` and `metadata`.
    public init(tensors: [String: Tensor], metadata: [String: String] = [:]) {
        self.tensors = tensors
        self.metadata = metadata
    }

    /// The header key reserved for metadata.
    public static let metadataKey = "__metadata__"
    /// The default cap on the header's length in bytes: headers past it are refused unread.
    public static let defaultHeaderLimit = 100_000_000
}

/// The element types the reader understands, with their size in bytes.
enum SafetensorsDType: String {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64"

    var size: Int {
        switch self {
        case .f16, .bf16: return 2
        case .f32: return 4
        case .f64: return 8
        }
    }
}
