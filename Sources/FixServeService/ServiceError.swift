/// What went wrong with a request, with the HTTP status the Open Inference Protocol maps it to.
///
/// Every message says what to fix; handlers throw these and one catch site turns them into
/// `{"error": "…"}` responses.
public struct ServiceError: Error, Equatable, CustomStringConvertible {
    /// The HTTP status: 400, 404, 405, 409, 413, 415, 429, 503, or 500 for a fault of the server.
    public var status: Int
    /// The message returned to the client.
    public var message: String

    public init(status: Int, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status): \(message)" }

    public static func badRequest(_ message: String) -> ServiceError { ServiceError(status: 400, message) }
    public static func notFound(_ message: String) -> ServiceError { ServiceError(status: 404, message) }
    public static func unsupportedMediaType(_ message: String) -> ServiceError { ServiceError(status: 415, message) }
    public static func payloadTooLarge(_ message: String) -> ServiceError { ServiceError(status: 413, message) }
    public static func unavailable(_ message: String) -> ServiceError { ServiceError(status: 503, message) }
    /// The caller asked for more than its share (a full training queue); it may retry later.
    public static func tooManyRequests(_ message: String) -> ServiceError { ServiceError(status: 429, message) }
    /// A fault of the server, not of the request; the message says what failed.
    public static func internalError(_ message: String) -> ServiceError { ServiceError(status: 500, "internal error: \(message)") }
}
