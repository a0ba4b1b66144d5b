/// Turns a complete request into a response. Responders never see the protocol: HTTP/1.1
/// requests and HTTP/2 streams look the same.
///
/// The server first asks `immediateResponse(to:)` on the connection's queue, then
/// `respond(to:promise:)`; only when neither answers does it run `respond(to:)` in a task of its
/// own, so a responder may await anything there. Every way, the response is handed back to the
/// connection's queue.
public protocol HTTPResponder: Sendable {
    /// Produces the response for `request`. Errors must already be turned into responses.
    func respond(to request: HTTPRequest) async -> HTTPResponse

    /// The response for `request` if it is known without suspending, or nil to have
    /// `respond(to:)` called in a task. Runs on the connection's queue whatever the
    /// `responderPlacement`, so it must be quick: while it runs, the connection's other
    /// requests (and those of other connections on the same loop) wait. Answering here saves
    /// the task a request otherwise costs. The default returns nil.
    func immediateResponse(to request: HTTPRequest) -> HTTPResponse?

    /// Takes `request` to answer through `promise`, now or later from any thread, and returns
    /// true; or returns false to have `respond(to:)` called in a task. Asked on the connection's
    /// queue after `immediateResponse(to:)`; like it, it must not block. A responder whose work
    /// waits on a callback (a batcher) answers this way without the cost of a task. The default
    /// returns false.
    func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> Bool
}

extension HTTPResponder {
    public func immediateResponse(to request: HTTPRequest) -> HTTPResponse? { nil }
    public func respond(to request: HTTPRequest, promise: HTTPResponsePromise) -> Bool { false }
}

/// A responder made from a closure, either asynchronous or immediate.
public struct HTTPClosureResponder: HTTPResponder {
    private enum Handler {
        case suspending(@Sendable (HTTPRequest) async -> HTTPResponse)
        case immediate(@Sendable (HTTPRequest) -> HTTPResponse)
    }

    private let handler: Handler

    /// A responder that answers every request in a task (see `HTTPResponder.respond(to:)`).
    public init(_ handler: @escaping @Sendable (HTTPRequest) async -> HTTPResponse) {
        self.handler = .suspending(handler)
    }

    /// A responder that answers every request without suspending, on the connection's queue
    /// (see `HTTPResponder.immediateResponse(to:)`).
    public init(immediate handler: @escaping @Sendable (HTTPRequest) -> HTTPResponse) {
        self.handler = .immediate(handler)
    }

    public func respond(to request: HTTPRequest) async -> HTTPResponse {
        switch handler {
        case .suspending(let handler): return await handler(request)
        case .immediate(let handler): return handler(request)
        }
    }

    public func immediateResponse(to request: HTTPRequest) -> HTTPResponse? {
        guard case .immediate(let handler) = handler else { return nil }
        return handler(request)
    }
}
