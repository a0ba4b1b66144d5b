/// Takes a responder's result on the connection's queue. `ServerContext.dispatch` keeps the
/// receiver and its token in the responder's task itself, so handing a response back costs no
/// closure allocation per request.
protocol ResponseReceiver: AnyObject {
    /// What identifies the request being answered (for HTTP/2, its stream).
    associatedtype Token

    /// Called on the connection's queue with the responder's response to the request `token` names.
    func receive(_ response: HTTPResponse, for token: Token)
}
