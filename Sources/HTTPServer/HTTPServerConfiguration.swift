/// Where and how the server listens, and the limits it enforces.
public struct HTTPServerConfiguration: Sendable {
    /// PEM files for TLS. With TLS the server negotiates `h2` or `http/1.1` through ALPN.
    public struct TLSFiles: Sendable {
        /// Certificate chain, server certificate first.
        public var certificatePath: String
        /// Unencrypted private key.
        public var privateKeyPath: String

        public init(certificatePath: String, privateKeyPath: String) {
            self.certificatePath = certificatePath
            self.privateKeyPath = privateKeyPath
        }
    }

    /// Resource limits and timeouts; every one has a defined answer when it is hit.
    public struct Limits: Sendable {
        /// Largest request body in bytes; larger bodies get 413 and are not buffered.
        public var maxBodySize = 64 * 1024 * 1024
        /// Largest header block in bytes (names, values and the request target); larger gets 431.
        public var maxHeaderListSize = 64 * 1024
        /// SETTINGS_MAX_CONCURRENT_STREAMS announced to HTTP/2 clients.
        public var maxConcurrentStreams = 128
        /// Open connections; further connections are accepted and closed at once.
        public var maxConnections = 1024
        /// Seconds a connection may sit with no request in progress before it is closed.
        public var idleTimeout: Double = 60
        /// Seconds a client has to deliver a complete request head (HTTP/1.1), or the TLS
        /// handshake and connection preface (HTTP/2), once it started; slower clients are cut off.
        public var headerReadTimeout: Double = 10
        /// HTTP/2 per-stream receive window in bytes (SETTINGS_INITIAL_WINDOW_SIZE). Large enough
        /// that multi-megabyte uploads are not throttled by window updates.
        public var initialStreamWindowSize = 8 * 1024 * 1024
        /// HTTP/2 connection-level receive window in bytes.
        public var initialConnectionWindowSize = 32 * 1024 * 1024
        /// Pipelined HTTP/1.1 requests buffered ahead of the one being answered.
        public var maxPipelinedRequests = 16

        public init() {}
    }

    /// Where the tasks of `HTTPResponsePromise.fulfil(awaiting:)` (and so of `AsyncHTTPResponder`s)
    /// start running. A responder that fulfils its promise at once needs no task.
    public enum ResponderPlacement: Sendable {
        /// On the connection's serial queue, as the task's executor preference: a responder that
        /// answers without suspending costs no thread switch. While it runs synchronously, the
        /// connection's other requests wait, so long CPU work belongs on an actor, a detached
        /// task or a queue of the service's own (an `await` on it frees the connection).
        case connectionQueue
        /// On Swift's global concurrency pool; the response hops back to the connection's queue.
        case concurrencyPool
    }

    /// Host name or address to bind (`"0.0.0.0"`, `"::"`, `"127.0.0.1"`, `"localhost"`).
    public var host: String
    /// TCP port; 0 picks a free ephemeral port (read it from `HTTPServer.start()`).
    public var port: Int
    /// TLS files, or nil for cleartext (HTTP/1.1 and h2c on the same port).
    public var tls: TLSFiles?
    /// Limits and timeouts.
    public var limits: Limits
    /// Where access-log lines go: a buffered `AccessLog` that never holds up a request, or nil
    /// for the logger at level info (synchronous, one write per line).
    public var accessLog: AccessLog?
    /// Where responders' tasks start running; `.connectionQueue` by default.
    public var responderPlacement: ResponderPlacement = .connectionQueue

    public init(host: String = "127.0.0.1", port: Int = 8080, tls: TLSFiles? = nil, limits: Limits = Limits()) {
        self.host = host
        self.port = port
        self.tls = tls
        self.limits = limits
    }
}
