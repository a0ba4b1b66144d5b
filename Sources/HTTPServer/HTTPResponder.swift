/// Turns a complete request into a response. Responders never see the protocol: HTTP/1.1
/// requests and HTTP/2 streams look the same.
///
/// One shape answers now or later: `respond(to:promise:)` runs on the connection's queue and
/// fulfils the promise once, either before it returns (the response is then taken at once, with
/// no hop and no task) or later from any thread (a batcher's callback, a task of its own).
public protocol HTTPResponder: Sendable {
    /// Answers `request` through `promise`. Runs on the connection's queue, so it must not
    /// block: while it runs, the connection's other requests (and those of other connections
    /// on the same loop) wait. Slow work goes to another queue, or into a task with
    /// `promise.fulfil(awaiting:)`.
    func respond(to request: HTTPRequest, promise: HTTPResponsePromise)
}

/// A responder written as an async function: each request gets a task, placed as
/// `HTTPServerConfiguration.responderPlacement` says.
public protocol AsyncHTTPResponder: HTTPResponder {
    /// Produces the response for `request`. Errors must already be turned into responses.
    func respond(to request: HTTPRequest) async -> HTTPResponse
}

extension AsyncHTTPResponder {
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        promise.fulfil { await self.respond(to: request) }
    }
}

/// A responder made from a closure, either asynchronous or immediate.
public struct HTTPClosureResponder: HTTPResponder {
    private enum Handler {
        case suspending(@Sendable (HTTPRequest) async -> HTTPResponse)
        case immediate(@Sendable (HTTPRequest) -> HTTPResponse)
    }

    private let handler: Handler

    /// A responder that answers every request in a task.
    public init(_ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.handler = .suspending(handler)
    }

    /// A responder that answers every request at once, on the connection's queue.
    public init(immediate handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.handler = .immediate(handler)
    }

    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) {
        switch handler {
        case .immediate(let handler): promise.fulfil(handler(request))
        case .suspending(let handler): promise.fulfil { await handler(request) }
        }
    }
}
