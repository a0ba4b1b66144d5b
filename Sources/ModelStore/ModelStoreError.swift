import Numerics

/// Why a model could not be read, saved or served. Each case names the field, tensor, file or
/// model at fault.
public enum ModelStoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A manifest field is missing, malformed or out of range. `field` is a path such as
    /// `input.std[1]` or `architecture.backbone[3].in`.
    case invalidManifest(field: String, problem: String)
    /// The model's tensor file is malformed.
    case invalidTensorFile(path: String, SafetensorsError)
    /// The manifest's architecture needs a tensor the file does not hold.
    case missingTensor(String)
    /// The file holds a tensor the architecture does not use.
    case unusedTensor(String)
    /// A tensor's shape differs from the one the architecture implies.
    case tensorShapeMismatch(name: String, expected: [Int], actual: [Int])
    /// A required file is absent.
    case missingFile(path: String)
    /// A file-system operation failed.
    case io(path: String, problem: String)
    /// A version directory with this number already exists.
    case versionExists(path: String)
    /// A model's `config.json` field is malformed or out of range.
    case invalidConfig(path: String, field: String, problem: String)
    /// The repository has no model of this name.
    case modelNotFound(String)
    /// The model exists but no version of it could be made ready.
    case noReadyVersion(model: String, reason: String)
    /// The model cannot be written as ONNX.
    case onnxExport(problem: String)

    public var description: String {
        switch self {
        case let .invalidManifest(field, problem): return "manifest field '\(field)': \(problem)"
        case let .invalidTensorFile(path, error): return "\(path): \(error)"
        case let .missingTensor(name): return "missing tensor '\(name)'"
        case let .unusedTensor(name): return "unused tensor '\(name)' (the architecture has no such tensor)"
        case let .tensorShapeMismatch(name, expected, actual):
            return "tensor '\(name)' has shape \(actual), the architecture expects \(expected)"
        case let .missingFile(path): return "missing file \(path)"
        case let .io(path, problem): return "\(path): \(problem)"
        case let .versionExists(path): return "version directory \(path) already exists"
        case let .invalidConfig(path, field, problem): return "\(path): field '\(field)': \(problem)"
        case let .modelNotFound(name): return "no model named '\(name)'"
        case let .noReadyVersion(model, reason): return "model '\(model)' has no ready version: \(reason)"
        case let .onnxExport(problem): return "ONNX export: \(problem)"
        }
    }
}
