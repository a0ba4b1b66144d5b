/// A protocol session (HTTP/1.1 or HTTP/2) driven by a `Connection`. Every method is called on
/// the connection's serial queue; the session never touches the socket.
protocol ConnectionHandler: AnyObject {
    /// Plaintext bytes from the peer.
    func receive(_ bytes: UnsafeRawBufferPointer)
    /// The connection has room for more output; write some with `Connection.write`.
    func produceOutput()
    /// The server is shutting down: finish in-flight requests, accept no new ones.
    func beginGracefulShutdown()
    /// The idle timeout expired: close politely (HTTP/2 sends GOAWAY).
    func closeIdle()
    /// The socket is gone: cancel whatever is still running for this connection.
    func connectionClosed()
    /// True when no request is being received or answered.
    var isIdle: Bool { get }
}
