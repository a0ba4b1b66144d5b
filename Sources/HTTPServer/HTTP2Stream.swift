extension HTTP2Session {
    /// One HTTP/2 stream's request and response state. Only touched on the connection's queue.
    /// Objects are reused for later streams of the same session (`recycle`, `reopen`).
    final class Stream {
        private(set) var id: Int32
        private(set) var startedAt: UInt64
        var method = ""
        var path = ""
        var headers = HTTPHeaders()
        var headerBytes = 0
        var body: [UInt8] = []
        var rejection: (status: Int, message: String)?
        var discardedBytes = 0
        var responseSent = false
        var resetSent = false
        var requestComplete = false
        var headersComplete = false
        var responseStarted = false
        // A complete body is read straight from here; only a streamed one needs a source object.
        var source: ResponseBodySource?
        var responseBytes: [UInt8] = []
        var responseOffset = 0
        var status = 0

        /// - Parameter startedAt: when the bytes that opened the stream arrived.
        init(id: Int32, startedAt: UInt64) {
            self.id = id
            self.startedAt = startedAt
            // Typical clients send well under eight regular fields; one allocation instead of three.
            headers.reserveCapacity(8)
        }

        /// Drops everything the closed stream referenced and resets its state; the header
        /// list keeps its capacity (a fresh buffer if a request still shares the old one).
        func recycle() {
            method = ""
            path = ""
            headers.removeAll(keepingCapacity: true)
            headerBytes = 0
            body = []
            rejection = nil
            discardedBytes = 0
            responseSent = false
            resetSent = false
            requestComplete = false
            headersComplete = false
            responseStarted = false
            source = nil
            responseBytes = []
            responseOffset = 0
            status = 0
        }

        /// Takes a recycled object into use for stream `id`.
        func reopen(id: Int32, startedAt: UInt64) {
            self.id = id
            self.startedAt = startedAt
        }
    }
}
