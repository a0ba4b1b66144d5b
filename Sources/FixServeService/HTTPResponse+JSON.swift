import Foundation
import HTTPServer
import ModelStore

extension HTTPHeaders {
    /// The headers of a JSON answer: one shared value, so an answer allocates none of its own.
    static let json: HTTPHeaders = ["content-type": "application/json"]
}

extension HTTPResponse {
    /// A JSON response from property-list values (dictionaries, arrays, strings, numbers, booleans).
    ///
    /// - Throws: `ServiceError` 500 when `object` cannot be written as JSON (a NaN or infinite
    ///   number, a value of another type): a bug of the handler, answered and logged as one
    ///   rather than sent as an empty object.
    static func json(_ object: Any, status: Int = 200) throws -> HTTPResponse {
        let data: Data
        do {
            data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        } catch {
            throw ServiceError.internalError("the response could not be written as JSON: \(error)")
        }
        return HTTPResponse(status: status, headers: .json, body: .bytes(Array(data)))
    }

    /// A JSON response from an `Encodable` value: snake-case keys, ISO 8601 dates.
    ///
    /// - Throws: `ServiceError` 500 when the value cannot be encoded (e.g. a NaN `Double`).
    static func json<T: Encodable>(encoding value: T, status: Int = 200) throws -> HTTPResponse {
        let data: Data
        do {
            data = try JSONEncoder.response.encode(value)
        } catch {
            throw ServiceError.internalError("the response could not be written as JSON: \(error)")
        }
        return HTTPResponse(status: status, headers: .json, body: .bytes(Array(data)))
    }

    /// `{"error": message}` with `status`.
    static func error(_ status: Int, _ message: String) -> HTTPResponse {
        // Written directly: errors are frequent under bad clients and JSONSerialization is slow.
        HTTPResponse(status: status, headers: .json,
                     body: .bytes(Array("{\"error\":\(JSONString.literal(message))}".utf8)))
    }
}

extension JSONEncoder {
    /// How responses encode `Encodable` values: sorted snake-case keys, ISO 8601 dates.
    static var response: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
