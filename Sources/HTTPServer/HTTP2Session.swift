import CNGHTTP2
import Dispatch

/// HTTP/2 on one connection through libnghttp2's server session. The session does no I/O: the
/// connection feeds it bytes (`mem_recv`) and drains frames from it (`mem_send`) while it has
/// room. A stream's request goes to the responder on END_STREAM. This class owns the
/// `nghttp2_session`; its C callbacks capture nothing and recover it from `user_data`.
final class HTTP2Session: ConnectionHandler, ResponseReceiver {
    private let connection: Connection
    private let limits: HTTPServerConfiguration.Limits
    private var session: OpaquePointer?
    private var streams = StreamTable<Stream>()
    // Closed streams nobody else holds, reused with their header storage: two allocations
    // less per request.
    private var spareStreams: [Stream] = []
    // Callbacks for one stream arrive in runs (a HEADERS frame's fields, its DATA), so the last
    // stream looked up is usually the next one asked for.
    private var recentStream: Stream?
    private var shuttingDown = false
    private var receivedFirstFrame = false
    // Streams whose header block is still arriving; while any is, the header-read timeout runs,
    // so a client dripping CONTINUATION frames is cut off like an HTTP/1.1 slowloris.
    private var streamsReadingHeaders = 0
    // Request bodies still being received on all streams; capped so that many concurrent
    // uploads on one connection cannot hold more than `bufferedBodyLimit` bytes.
    private var bufferedBodyBytes = 0
    private var bufferedBodyLimit: Int { 2 * limits.maxBodySize }
    private var nameValueBytes: [UInt8] = []
    private var fieldLengths: [(Int, Int)] = []
    private var nameValues: [nghttp2_nv] = []

    /// - Parameter upgrade: for `Upgrade: h2c`, the decoded HTTP2-Settings payload and the
    ///   HTTP/1.1 request, which becomes stream 1.
    init(connection: Connection, upgrade: (settings: [UInt8], request: HTTPRequest)?) {
        self.connection = connection
        limits = connection.context.limits
        // nghttp2's defaults police SETTINGS and PING floods and malformed messages; keep them.
        var created: OpaquePointer?
        let status = nghttp2_session_server_new(&created, HTTP2Session.callbacks, Unmanaged.passUnretained(self).toOpaque())
        guard status == 0, let created else {
            connection.context.logger.error("cannot create HTTP/2 session", metadata: ["code": "\(status)"])
            connection.close()
            return
        }
        session = created
        if let upgrade {
            let rv = upgrade.settings.withUnsafeBufferPointer { settings in
                nghttp2_session_upgrade2(created, settings.baseAddress, settings.count, upgrade.request.method == "HEAD" ? 1 : 0, nil)
            }
            guard rv == 0 else {
                connection.context.logger.debug("bad HTTP2-Settings in upgrade", metadata: ["remote": "\(connection.remoteAddress)"])
                connection.closeAfterFlush()
                return
            }
        }
        var settings = [
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS.rawValue), value: UInt32(clamping: limits.maxConcurrentStreams)),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE.rawValue), value: UInt32(clamping: min(limits.initialStreamWindowSize, Int(Int32.max)))),
            nghttp2_settings_entry(settings_id: Int32(NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE.rawValue), value: UInt32(clamping: limits.maxHeaderListSize)),
        ]
        nghttp2_submit_settings(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), &settings, settings.count)
        nghttp2_session_set_local_window_size(created, UInt8(NGHTTP2_FLAG_NONE.rawValue), 0,
                                              Int32(clamping: min(limits.initialConnectionWindowSize, Int(Int32.max))))
        if let upgrade {
            let stream = makeStream(id: 1)
            stream.headersComplete = true
            stream.method = upgrade.request.method
            stream.path = upgrade.request.target
            stream.headers = upgrade.request.headers
            stream.body = upgrade.request.body
            bufferedBodyBytes += stream.body.count
            stream.requestComplete = true
            streams[1] = stream
            dispatch(stream)
        }
    }

    deinit {
        nghttp2_session_del(session)
    }

    var isIdle: Bool {
        streams.values.allSatisfy { !$0.requestComplete }
    }

    // MARK: ConnectionHandler

    func receive(_ bytes: UnsafeRawBufferPointer) {
        guard let session, let base = bytes.baseAddress else { return }
        let consumed = nghttp2_session_mem_recv(session, base.assumingMemoryBound(to: UInt8.self), bytes.count)
        if consumed < 0 {
            let message = String(cString: nghttp2_strerror(Int32(consumed)))
            connection.context.logger.debug("HTTP/2 protocol error", metadata: ["remote": "\(connection.remoteAddress)", "error": "\(message)"])
            // Queues GOAWAY(PROTOCOL_ERROR) unless nghttp2 already did; the connection closes once it is out.
            nghttp2_session_terminate_session(session, UInt32(NGHTTP2_PROTOCOL_ERROR.rawValue))
            connection.closeAfterFlush()
        }
    }

    func produceOutput() {
        guard let session else { return }
        while connection.hasOutputRoom {
            var data: UnsafePointer<UInt8>?
            let count = nghttp2_session_mem_send(session, &data)
            if count < 0 {
                connection.context.logger.debug("HTTP/2 send failed", metadata: ["error": "\(String(cString: nghttp2_strerror(Int32(count))))"])
                connection.close()
                return
            }
            guard count > 0, let data else { break }
            connection.write(UnsafeRawBufferPointer(start: data, count: count))
        }
        if nghttp2_session_want_read(session) == 0, nghttp2_session_want_write(session) == 0 {
            connection.closeAfterFlush()
        }
    }

    func beginGracefulShutdown() {
        guard let session, !shuttingDown else { return }
        shuttingDown = true
        nghttp2_submit_goaway(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), nghttp2_session_get_last_proc_stream_id(session),
                              UInt32(NGHTTP2_NO_ERROR.rawValue), nil, 0)
        if streams.isEmpty { connection.closeAfterFlush() }
    }

    func closeIdle() {
        guard let session else { return }
        nghttp2_session_terminate_session(session, UInt32(NGHTTP2_NO_ERROR.rawValue))
    }

    func connectionClosed() {
        for stream in streams.values { stream.source?.cancel() }
        streams.removeAll()
        spareStreams.removeAll()
        recentStream = nil
    }

    // MARK: Callbacks

    fileprivate func didBeginHeaders(streamID: Int32) {
        let stream = makeStream(id: streamID)
        streams[streamID] = stream
        recentStream = stream
        streamsReadingHeaders += 1
        connection.setReadingHeaders(true)
    }

    private func finishReadingHeaders(_ stream: Stream) {
        guard !stream.headersComplete else { return }
        stream.headersComplete = true
        streamsReadingHeaders -= 1
        if streamsReadingHeaders == 0 { connection.setReadingHeaders(false) }
    }

    private func stream(_ id: Int32) -> Stream? {
        if let recent = recentStream, recent.id == id { return recent }
        let found = streams[id]
        if found != nil { recentStream = found }
        return found
    }

    fileprivate func didReceiveHeader(streamID: Int32, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) {
        guard let stream = stream(streamID), stream.rejection == nil else { return }
        // RFC 9113 §6.5.2 counts 32 bytes of overhead per field.
        stream.headerBytes += name.count + value.count + 32
        if stream.headerBytes > limits.maxHeaderListSize {
            stream.rejection = (431, "request head exceeds \(limits.maxHeaderListSize) bytes")
            return
        }
        guard name.first == UInt8(ascii: ":") else {
            // nghttp2's HTTP messaging checks already rejected uppercase names.
            let nameText = CommonStrings.fieldName(name) ?? String(decoding: name, as: UTF8.self)
            stream.headers.add(lowercasedName: nameText, value: String(decoding: value, as: UTF8.self))
            return
        }
        // nghttp2 lets only :method, :scheme, :path, :authority and :protocol through, so the
        // length and the first letter tell them apart.
        switch (name.count, name.count > 1 ? name[1] : 0) {
        case (7, UInt8(ascii: "m")):
            stream.method = CommonStrings.method(value) ?? String(decoding: value, as: UTF8.self)
        case (5, UInt8(ascii: "p")):
            stream.path = String(decoding: value, as: UTF8.self)
        case (10, UInt8(ascii: "a")):
            stream.headers.add(lowercasedName: "host", value: String(decoding: value, as: UTF8.self))
        default:
            break
        }
    }

    fileprivate func didReceiveData(streamID: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let stream = stream(streamID) else { return }
        if stream.rejection != nil {
            stream.discardedBytes += bytes.count
            resetIfDiscardingTooMuch(stream)
            return
        }
        guard stream.body.count + bytes.count <= limits.maxBodySize else {
            releaseBody(of: stream)
            reject(stream, status: 413, message: "request body exceeds \(limits.maxBodySize) bytes")
            return
        }
        guard bufferedBodyBytes + bytes.count <= bufferedBodyLimit else {
            releaseBody(of: stream)
            reject(stream, status: 503, message: "too many concurrent uploads on this connection")
            return
        }
        bufferedBodyBytes += bytes.count
        stream.body.append(contentsOf: bytes)
    }

    fileprivate func didReceiveFrame(type: UInt8, streamID: Int32, endStream: Bool, isRequestHeaders: Bool) {
        if !receivedFirstFrame {
            receivedFirstFrame = true
            connection.setReadingHeaders(false)
        }
        guard let stream = stream(streamID) else { return }
        if isRequestHeaders {
            finishReadingHeaders(stream)
            if let rejection = stream.rejection {
                reject(stream, status: rejection.status, message: rejection.message)
            } else if !endStream, let declared = stream.headers["content-length"].flatMap(Int.init) {
                if declared > limits.maxBodySize {
                    reject(stream, status: 413, message: "request body exceeds \(limits.maxBodySize) bytes")
                } else {
                    stream.body.reserveCapacity(min(declared, 4 * 1024 * 1024))
                }
            }
        }
        guard endStream, type == UInt8(NGHTTP2_DATA.rawValue) || type == UInt8(NGHTTP2_HEADERS.rawValue) else { return }
        stream.requestComplete = true
        if stream.rejection == nil { dispatch(stream) }
    }

    fileprivate func didSendFrame(streamID: Int32, endStream: Bool) {
        guard endStream, let stream = stream(streamID) else { return }
        stream.responseSent = true
        resetIfDiscardingTooMuch(stream)
    }

    /// RFC 9113 §8.1: after a complete early response (413, 431) the server may reset the stream
    /// with NO_ERROR so the client stops sending. Some clients (curl 7.88) report that reset as a
    /// failure even though the response arrived, so a short remainder is read and dropped first;
    /// only a client still sending past `HTTP2Session.discardAllowance` bytes is reset.
    private func resetIfDiscardingTooMuch(_ stream: Stream) {
        guard let session, stream.responseSent, !stream.requestComplete, !stream.resetSent,
              stream.discardedBytes > HTTP2Session.discardAllowance else { return }
        stream.resetSent = true
        nghttp2_submit_rst_stream(session, UInt8(NGHTTP2_FLAG_NONE.rawValue), stream.id, UInt32(NGHTTP2_NO_ERROR.rawValue))
    }

    private static let discardAllowance = 1024 * 1024
    private static let spareStreamLimit = 64

    private func makeStream(id: Int32) -> Stream {
        // Started when the bytes that opened it were read: no clock read per stream.
        guard let stream = spareStreams.popLast() else { return Stream(id: id, startedAt: connection.receivedAt) }
        stream.reopen(id: id, startedAt: connection.receivedAt)
        return stream
    }

    fileprivate func didCloseStream(streamID: Int32) {
        guard var stream = streams.removeValue(forKey: streamID) else { return }
        if recentStream === stream { recentStream = nil }
        releaseBody(of: stream)
        finishReadingHeaders(stream)
        if stream.responseStarted {
            stream.source?.cancel()
            let bytes = stream.source?.bytesRead ?? stream.responseOffset
            connection.context.logAccess(method: stream.method, path: stream.path, status: stream.status, bytes: bytes,
                                         startedAt: stream.startedAt, version: .http2, remote: connection.remoteAddress)
        }
        // A responder's task still running holds the stream too; then it is left to go.
        if spareStreams.count < HTTP2Session.spareStreamLimit, isKnownUniquelyReferenced(&stream) {
            stream.recycle()
            spareStreams.append(stream)
        }
        if shuttingDown, streams.isEmpty { connection.closeAfterFlush() }
    }

    fileprivate func readBody(streamID: Int32, into buffer: UnsafeMutableRawBufferPointer, flags: UnsafeMutablePointer<UInt32>) -> Int {
        guard let stream = stream(streamID), stream.responseStarted else { return Int(NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE.rawValue) }
        if let source = stream.source {
            switch source.read(into: buffer) {
            case let .bytes(count, isLast):
                if isLast { flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
                return count
            case .wouldBlock:
                return Int(NGHTTP2_ERR_DEFERRED.rawValue)
            }
        }
        let count = min(stream.responseBytes.count - stream.responseOffset, buffer.count)
        if count > 0, let target = buffer.baseAddress {
            stream.responseBytes.withUnsafeBytes { bytes in
                target.copyMemory(from: bytes.baseAddress! + stream.responseOffset, byteCount: count)
            }
            stream.responseOffset += count
        }
        if stream.responseOffset == stream.responseBytes.count { flags.pointee |= NGHTTP2_DATA_FLAG_EOF.rawValue }
        return count
    }

    // MARK: Responses

    private func reject(_ stream: Stream, status: Int, message: String) {
        guard !stream.responseStarted else { return }
        stream.rejection = (status, message)
        submit(.text(message + "\n", status: status), for: stream)
    }

    private func releaseBody(of stream: Stream) {
        bufferedBodyBytes -= stream.body.count
        stream.body = []
    }

    private func dispatch(_ stream: Stream) {
        let request = HTTPRequest(method: stream.method, target: stream.path, headers: stream.headers, body: stream.body,
                                  version: .http2, remoteAddress: connection.remoteAddress)
        releaseBody(of: stream)
        connection.context.dispatch(request, on: connection, to: self, token: stream)
    }

    // MARK: ResponseReceiver

    func receive(_ response: HTTPResponse, for stream: Stream) {
        // The stream may have been reset while the responder ran.
        guard streams[stream.id] === stream, !connection.isClosed else { return }
        submit(response, for: stream)
        connection.schedulePump()
    }

    private func submit(_ response: HTTPResponse, for stream: Stream) {
        guard let session else { return }
        stream.responseStarted = true
        stream.status = response.status
        let contentLength: Int?
        switch response.body {
        case .bytes(let bytes):
            stream.responseBytes = bytes
            contentLength = bytes.count
        case .stream:
            let source = ResponseBodySource(body: response.body, loop: connection.loop)
            stream.source = source
            contentLength = nil
        }
        let bodyAllowed = response.status >= 200 && response.status != 204 && response.status != 304 && !HTTP2Session.isHead(stream.method)
        let sendsBody = bodyAllowed && contentLength != 0
        // Scratch buffers live on the session so a response costs no allocations here.
        nameValueBytes.removeAll(keepingCapacity: true)
        fieldLengths.removeAll(keepingCapacity: true)
        appendField(":status", decimal: response.status)
        for field in response.headers where !HTTP2Session.isConnectionSpecific(field.name) {
            appendField(field.name, field.value)
        }
        if let contentLength { appendField("content-length", decimal: contentLength) }
        var provider = nghttp2_data_provider(source: nghttp2_data_source(ptr: nil), read_callback: HTTP2Session.readCallback)
        nameValues.removeAll(keepingCapacity: true)
        let rv = nameValueBytes.withUnsafeMutableBufferPointer { bytes -> Int32 in
            var offset = 0
            for (nameLength, valueLength) in fieldLengths {
                nameValues.append(nghttp2_nv(name: bytes.baseAddress! + offset, value: bytes.baseAddress! + offset + nameLength,
                                             namelen: nameLength, valuelen: valueLength, flags: UInt8(NGHTTP2_NV_FLAG_NONE.rawValue)))
                offset += nameLength + valueLength
            }
            if sendsBody {
                return nghttp2_submit_response(session, stream.id, nameValues, nameValues.count, &provider)
            }
            return nghttp2_submit_response(session, stream.id, nameValues, nameValues.count, nil)
        }
        if rv != 0 {
            connection.context.logger.debug("cannot submit response", metadata: ["stream": "\(stream.id)", "error": "\(String(cString: nghttp2_strerror(rv)))"])
            stream.source?.cancel()
            return
        }
        if let source = stream.source {
            let id = stream.id
            source.onReadable = { [weak self] in
                guard let self, let session = self.session else { return }
                nghttp2_session_resume_data(session, id)
                self.connection.schedulePump()
            }
        }
    }

    private func appendField(_ name: String, _ value: String) {
        let nameStart = nameValueBytes.count
        nameValueBytes.append(contentsOf: name.utf8)
        let valueStart = nameValueBytes.count
        nameValueBytes.append(contentsOf: value.utf8)
        fieldLengths.append((valueStart - nameStart, nameValueBytes.count - valueStart))
    }

    /// `value` in decimal digits, written straight into the scratch buffer (no `String`).
    private func appendField(_ name: String, decimal value: Int) {
        let nameStart = nameValueBytes.count
        nameValueBytes.append(contentsOf: name.utf8)
        let valueStart = nameValueBytes.count
        if value < 0 { nameValueBytes.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        let digitsStart = nameValueBytes.count
        repeat {
            nameValueBytes.append(UInt8(ascii: "0") + UInt8(magnitude % 10))
            magnitude /= 10
        } while magnitude > 0
        // Digits came out least significant first; swapping in place avoids copying a slice.
        var low = digitsStart, high = nameValueBytes.count - 1
        while low < high {
            nameValueBytes.swapAt(low, high)
            low += 1
            high -= 1
        }
        fieldLengths.append((valueStart - nameStart, nameValueBytes.count - valueStart))
    }

    private static func isHead(_ method: String) -> Bool {
        // Comparing UTF-8 skips String's general comparison path on every response.
        method.utf8.count == 4 && method.utf8.elementsEqual("HEAD".utf8)
    }

    /// Fields HTTP/2 forbids (RFC 9113 §8.2.2) or the session computes itself.
    private static func isConnectionSpecific(_ name: String) -> Bool {
        // Most names have none of these lengths; that check is cheaper than comparing strings.
        switch name.utf8.count {
        case 7, 10, 14, 16, 17: break
        default: return false
        }
        switch name {
        case "connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "content-length": return true
        default: return false
        }
    }

    private static let readCallback: nghttp2_data_source_read_callback = { _, streamID, buffer, length, flags, _, userData in
        withOwner(userData) { $0.readBody(streamID: streamID, into: UnsafeMutableRawBufferPointer(start: buffer, count: length), flags: flags!) }
    }

    /// One callback table for every session; nghttp2 copies it at session creation.
    private static let callbacks: OpaquePointer = {
        var callbacks: OpaquePointer?
        nghttp2_session_callbacks_new(&callbacks)
        nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks) { _, frame, userData in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue),
                  frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST else { return 0 }
            withOwner(userData) { $0.didBeginHeaders(streamID: frame.pointee.hd.stream_id) }
            return 0
        }
        nghttp2_session_callbacks_set_on_header_callback(callbacks) { _, frame, name, nameLength, value, valueLength, _, userData in
            guard let frame, frame.pointee.hd.type == UInt8(NGHTTP2_HEADERS.rawValue) else { return 0 }
            withOwner(userData) { $0.didReceiveHeader(streamID: frame.pointee.hd.stream_id,
                                             name: UnsafeRawBufferPointer(start: name, count: nameLength),
                                             value: UnsafeRawBufferPointer(start: value, count: valueLength)) }
            return 0
        }
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks) { _, _, streamID, data, length, userData in
            withOwner(userData) { $0.didReceiveData(streamID: streamID, UnsafeRawBufferPointer(start: data, count: length)) }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            let type = frame.pointee.hd.type
            let isRequestHeaders = type == UInt8(NGHTTP2_HEADERS.rawValue) && frame.pointee.headers.cat == NGHTTP2_HCAT_REQUEST
            withOwner(userData) { $0.didReceiveFrame(type: type, streamID: frame.pointee.hd.stream_id,
                                            endStream: frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0,
                                            isRequestHeaders: isRequestHeaders) }
            return 0
        }
        nghttp2_session_callbacks_set_on_frame_send_callback(callbacks) { _, frame, userData in
            guard let frame else { return 0 }
            withOwner(userData) { $0.didSendFrame(streamID: frame.pointee.hd.stream_id,
                                         endStream: frame.pointee.hd.flags & UInt8(NGHTTP2_FLAG_END_STREAM.rawValue) != 0) }
            return 0
        }
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks) { _, streamID, _, userData in
            withOwner(userData) { $0.didCloseStream(streamID: streamID) }
            return 0
        }
        return callbacks!
    }()
}

/// Calls `body` with the session behind `userData`. The session outlives every callback (it
/// owns the nghttp2 session), so no retain is needed around the call.
private func withOwner<Result>(_ userData: UnsafeMutableRawPointer?, _ body: (HTTP2Session) -> Result) -> Result {
    Unmanaged<HTTP2Session>.fromOpaque(userData!)._withUnsafeGuaranteedRef(body)
}
