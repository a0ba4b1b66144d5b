import Datasets
import Foundation
import ImageCodec
import ModelStore
import Numerics

extension ServiceError {
    /// The response status and message for any error a handler throws: the one mapping from
    /// the lower layers' typed errors to HTTP. What the request got wrong is a 4xx that says so;
    /// what went wrong on the server (a LAPACK failure, a broken model or data file, a response
    /// that cannot be encoded) is a 500, which the one catch site logs with its cause. The
    /// switches name every case, so a new case has to be placed on one side or the other.
    static func from(_ error: Error) -> ServiceError {
        switch error {
        case let error as ServiceError:
            return error
        case let error as BatcherError:
            switch error {
            case .empty, .batchTooLarge, .rowSizeMismatch: return .badRequest(error.description)
            case .queueFull, .closed: return .unavailable(error.description)
            }
        case let error as ImageError:
            return from(error)
        case let error as ModelStoreError:
            return from(error)
        case let error as NumericsError:
            return from(error)
        case let error as DatasetError:
            return from(error)
        case let error as DecodingError:
            return .badRequest("the request body does not fit: \(DecodingErrorText.describe(error))")
        case let error as EncodingError:
            return .internalError("the response could not be written as JSON: \(error)")
        default:
            return .internalError("\(error)")
        }
    }

    private static func from(_ error: ImageError) -> ServiceError {
        switch error {
        case .encodedDataTooLarge, .tooManyPixels:
            return .payloadTooLarge(error.description)
        case .emptyInput, .unknownFormat, .truncated, .checksumMismatch, .corrupt, .unsupported, .invalidDimensions,
             .pixelCountMismatch:
            return .badRequest(error.description)
        case .encodingFailed:
            // The service encodes no image a client sent.
            return .internalError(error.description)
        }
    }

    private static func from(_ error: ModelStoreError) -> ServiceError {
        switch error {
        case .modelNotFound:
            return .notFound(error.description)
        case .noReadyVersion:
            return .unavailable(error.description)
        case .versionExists:
            return ServiceError(status: 409, error.description)
        case .invalidManifest, .invalidTensorFile, .missingTensor, .unusedTensor, .tensorShapeMismatch, .missingFile,
             .io, .invalidConfig, .onnxExport:
            // The repository is the server's: a client cannot send a model file.
            return .internalError(error.description)
        }
    }

    private static func from(_ error: NumericsError) -> ServiceError {
        switch error {
        case .moreClassesThanFeatures, .invalidSpec, .invalidInput:
            // Sizes and inputs a training request or an inference request chose.
            return .badRequest(error.description)
        case .unknownTensor, .missingTensor, .shapeMismatch, .lapackFailure:
            // Weights that do not fit their network, or the LAPACK library failing: nothing a
            // request can fix.
            return .internalError(error.description)
        }
    }

    private static func from(_ error: DatasetError) -> ServiceError {
        switch error {
        case .unknownDataset, .invalidParameter, .missingRoot, .noClassFolders, .emptyClassFolder, .unreadableImage:
            // A data set the request named: an unknown name, or a folder under the data root
            // that is missing or holds what is not a labelled image set.
            return .badRequest(error.description)
        case .unreadableFile, .badMagic, .unsupportedTypeCode, .unsupportedShape, .truncated, .trailingBytes,
             .countMismatch, .labelOutOfRange, .corruptGzip, .fileTooLarge, .inflatedTooLarge, .notInstalled:
            // The installed built-in data set's files: the server's to fix.
            return .internalError(error.description)
        }
    }
}

/// Short, field-naming text for JSON decoding errors.
enum DecodingErrorText {
    static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case let .keyNotFound(key, context): return "field \"\(path(context.codingPath + [key]))\" is missing"
        case let .typeMismatch(type, context): return "field \"\(path(context.codingPath))\" must be \(type)"
        case let .valueNotFound(type, context): return "field \"\(path(context.codingPath))\" must be \(type), not null"
        case let .dataCorrupted(context):
            return context.codingPath.isEmpty ? "not valid JSON" : "field \"\(path(context.codingPath))\": \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
