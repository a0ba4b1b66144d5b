import Datasets
import Foundation
import ImageCodec
import ModelStore
import Numerics

extension ServiceError {
    /// The response status and message for any error a handler throws: the one mapping from
    /// the lower layers' typed errors to HTTP. Anything unexpected becomes a 500.
    static func from(_ error: Error) -> ServiceError {
        switch error {
        case let error as ServiceError:
            return error
        case let error as BatcherError:
            switch error {
            case .batchTooLarge: return .badRequest(error.description)
            case .queueFull, .closed: return .unavailable(error.description)
            case .resultCountMismatch: return ServiceError(status: 500, error.description)
            }
        case let error as ImageError:
            switch error {
            case .encodedDataTooLarge, .tooManyPixels: return .payloadTooLarge(error.description)
            default: return .badRequest(error.description)
            }
        case let error as ModelStoreError:
            switch error {
            case .modelNotFound: return .notFound(error.description)
            case .noReadyVersion: return .unavailable(error.description)
            default: return .badRequest(error.description)
            }
        case let error as NumericsError:
            return .badRequest(error.description)
        case let error as DatasetError:
            return .badRequest(error.description)
        case let error as DecodingError:
            return .badRequest("the request body does not fit: \(DecodingErrorText.describe(error))")
        default:
            return ServiceError(status: 500, "internal error: \(error)")
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
