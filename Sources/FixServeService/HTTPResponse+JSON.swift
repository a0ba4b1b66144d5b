import Foundation
import HTTPServer
import ModelStore

extension HTTPResponse {
    /// A JSON response from property-list values (dictionaries, arrays, strings, numbers, booleans).
    static func json(_ object: Any, status: Int = 200) -> HTTPResponse {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: ["content-type": "application/json"], body: .bytes(Array(data)))
    }

    /// A JSON response from an `Encodable` value.
    static func json<T: Encodable>(encoding value: T, status: Int = 200) -> HTTPResponse {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.dateEncodingStrategy = .iso8601
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return HTTPResponse(status: status, headers: ["content-type": "application/json"], body: .bytes(Array(data)))
    }

    /// `{"error": message}` with `status`.
    static func error(_ status: Int, _ message: String) -> HTTPResponse {
        // Written directly: errors are frequent under bad clients and JSONSerialization is slow.
        HTTPResponse(status: status, headers: ["content-type": "application/json"],
                     body: .bytes(Array("{\"error\":\(JSONString.literal(message))}".utf8)))
    }
}
