/// Turns a complete request into a response. The server calls it from a task of its own, so a
/// responder may await anything; the response is handed back to the connection's queue.
/// Responders never see the protocol: HTTP/1.1 requests and HTTP/2 streams look the same.
public protocol HTTPResponder: Sendable {
    /// Produces the response for `request`. Errors must already be turned into responses.
    func respond(to request: HTTPRequest) async -> HTTPResponse
}

/// A responder made from a closure.
public struct HTTPClosureResponder: HTTPResponder {
    private let handler: @Sendable (HTTPRequest) async -> HTTPResponse

    public init(_ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.handler = handler
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        await handler(request)
    }
}
