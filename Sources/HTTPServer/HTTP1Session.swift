import CHTTPParser
import Dispatch

/// HTTP/1.1 on one connection, parsed by libhttp-parser. Requests are answered strictly in
/// order (pipelining-safe); up to `maxPipelinedRequests` wait behind the one being answered.
/// This class owns the parser; its C callbacks recover it from `parser.data`.
final class HTTP1Session: ConnectionHandler {
    private enum Work {
        case request(HTTPRequest, keepAlive: Bool, startedAt: UInt64, upgradeToH2C: Bool)
        case reject(status: Int, message: String, startedAt: UInt64)
    }

    /// A response being written.
    private struct Writer {
        let source: ResponseBodySource
        let chunked: Bool
        let sendsBody: Bool
        let closeAfter: Bool
        let method: String
        let path: String
        let status: Int
        let startedAt: UInt64
    }

    private let connection: Connection
    private let parser: UnsafeMutablePointer<http_parser>
    private let limits: HTTPServerConfiguration.Limits

    // The message being parsed.
    private var messageInProgress = false
    private var messageStartedAt: UInt64 = 0
    private var url: [UInt8] = []
    private var fieldName: [UInt8] = []
    private var fieldValue: [UInt8] = []
    private var lastCallbackWasValue = false
    private var headers = HTTPHeaders()
    private var headerBytes = 0
    private var body: [UInt8] = []
    private var rejection: (status: Int, message: String)?

    private var work: [Work] = []
    private var writer: Writer?
    private var awaitingResponder = false
    private var parserStopped = false
    private var upgradeRemainder: [UInt8] = []
    private var shuttingDown = false
    private var scratch = [UInt8](repeating: 0, count: 64 * 1024)

    init(connection: Connection) {
        self.connection = connection
        limits = connection.context.limits
        parser = .allocate(capacity: 1)
        http_parser_init(parser, HTTP_REQUEST)
        parser.pointee.data = Unmanaged.passUnretained(self).toOpaque()
    }

    deinit {
        parser.deallocate()
    }

    var isIdle: Bool {
        work.isEmpty && writer == nil && !awaitingResponder
    }

    /// Nothing owed and nothing half-received: safe to close during shutdown.
    private var isQuiescent: Bool {
        isIdle && !messageInProgress
    }

    // MARK: ConnectionHandler

    func receive(_ bytes: UnsafeRawBufferPointer) {
        // An empty buffer would tell http-parser the stream ended.
        guard bytes.count > 0 else { return }
        guard !parserStopped else {
            if !upgradeRemainder.isEmpty || isUpgradePending {
                upgradeRemainder.append(contentsOf: bytes)
            }
            return
        }
        let consumed = bytes.withMemoryRebound(to: CChar.self) { characters in
            http_parser_execute(parser, HTTP1Session.settings, characters.baseAddress, characters.count)
        }
        let code = http_errno(parser.pointee.http_errno)
        if let rejection {
            stopParsing(answering: rejection.status, rejection.message)
        } else if code == HPE_HEADER_OVERFLOW {
            stopParsing(answering: 431, "request head exceeds the parser's limit")
        } else if code != HPE_OK {
            let name = String(cString: http_errno_name(code))
            connection.context.logger.debug("malformed HTTP/1.1 request",
                                            metadata: ["remote": "\(connection.remoteAddress)", "error": "\(name)"])
            stopParsing(answering: 400, "malformed request (\(name))")
        } else if parser.pointee.upgrade == 1 {
            parserStopped = true
            upgradeRemainder.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[consumed...]))
        }
        if work.count >= limits.maxPipelinedRequests { connection.setReadingPaused(true) }
        processNext()
    }

    func produceOutput() {
        while let current = writer, connection.hasOutputRoom {
            let result = scratch.withUnsafeMutableBytes { buffer -> ResponseBodySource.ReadResult in
                // Chunk framing needs room around the data.
                current.source.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<(buffer.count - 32)]))
            }
            guard case let .bytes(count, isLast) = result else { return }
            if count > 0, current.sendsBody {
                if current.chunked {
                    connection.write(Array((String(count, radix: 16) + "\r\n").utf8))
                    scratch.withUnsafeBytes { connection.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                    connection.write(HTTP1Session.crlf)
                } else {
                    scratch.withUnsafeBytes { connection.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
                }
            }
            if isLast {
                if current.chunked, current.sendsBody { connection.write(HTTP1Session.lastChunk) }
                finishResponse(current)
            }
        }
    }

    func beginGracefulShutdown() {
        shuttingDown = true
        if isQuiescent { connection.closeAfterFlush() }
    }

    func closeIdle() {}

    func connectionClosed() {
        writer?.source.cancel()
        writer = nil
        work.removeAll()
    }

    // MARK: Parser callbacks

    fileprivate func didBeginMessage() -> Int32 {
        messageInProgress = true
        messageStartedAt = connection.receivedAt
        connection.setReadingHeaders(true)
        url.removeAll(keepingCapacity: true)
        fieldName.removeAll(keepingCapacity: true)
        fieldValue.removeAll(keepingCapacity: true)
        lastCallbackWasValue = false
        headers = HTTPHeaders()
        headerBytes = 0
        body = []
        return 0
    }

    fileprivate func didReceiveURL(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        url.append(contentsOf: bytes)
        return countHeaderBytes(bytes.count)
    }

    fileprivate func didReceiveHeaderField(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        if lastCallbackWasValue { commitField() }
        fieldName.append(contentsOf: bytes)
        return countHeaderBytes(bytes.count)
    }

    fileprivate func didReceiveHeaderValue(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        lastCallbackWasValue = true
        fieldValue.append(contentsOf: bytes)
        return countHeaderBytes(bytes.count)
    }

    fileprivate func didCompleteHeaders() -> Int32 {
        if lastCallbackWasValue { commitField() }
        connection.setReadingHeaders(false)
        let declaredLength = parser.pointee.content_length
        if declaredLength != UInt64.max, declaredLength > UInt64(limits.maxBodySize) {
            rejection = (413, "request body exceeds \(limits.maxBodySize) bytes")
            return -1
        }
        if declaredLength != UInt64.max {
            body.reserveCapacity(Int(min(declaredLength, 4 * 1024 * 1024)))
        }
        if headers["expect"]?.lowercased() == "100-continue", writer == nil, work.isEmpty, !awaitingResponder {
            connection.write(HTTP1Session.continueResponse)
        }
        return 0
    }

    fileprivate func didReceiveBody(_ bytes: UnsafeRawBufferPointer) -> Int32 {
        guard body.count + bytes.count <= limits.maxBodySize else {
            rejection = (413, "request body exceeds \(limits.maxBodySize) bytes")
            return -1
        }
        body.append(contentsOf: bytes)
        return 0
    }

    fileprivate func didCompleteMessage() -> Int32 {
        messageInProgress = false
        let method = String(cString: http_method_str(http_method(rawValue: UInt32(parser.pointee.method))))
        let version: HTTPVersion = parser.pointee.http_minor == 0 ? .http1_0 : .http1_1
        let request = HTTPRequest(method: method, target: String(decoding: url, as: UTF8.self), headers: headers,
                                  body: body, version: version, remoteAddress: connection.remoteAddress)
        body = []
        let upgrade = parser.pointee.upgrade == 1
            && (request.headers["upgrade"]?.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: " ") == "h2c" } ?? false)
            && request.headers["http2-settings"] != nil
        work.append(.request(request, keepAlive: http_should_keep_alive(parser) != 0, startedAt: messageStartedAt, upgradeToH2C: upgrade))
        return 0
    }

    // MARK: Work

    private var isUpgradePending: Bool {
        work.contains { if case .request(_, _, _, true) = $0 { return true } else { return false } }
    }

    private func countHeaderBytes(_ count: Int) -> Int32 {
        headerBytes += count
        guard headerBytes <= limits.maxHeaderListSize else {
            rejection = (431, "request head exceeds \(limits.maxHeaderListSize) bytes")
            return -1
        }
        return 0
    }

    private func commitField() {
        let name = String(decoding: fieldName, as: UTF8.self)
        // Optional white space around the value is not part of it (RFC 9110 §5.5); trimmed as bytes.
        var lower = fieldValue.startIndex, upper = fieldValue.endIndex
        while lower < upper, fieldValue[lower] == UInt8(ascii: " ") || fieldValue[lower] == UInt8(ascii: "\t") { lower += 1 }
        while upper > lower, fieldValue[upper - 1] == UInt8(ascii: " ") || fieldValue[upper - 1] == UInt8(ascii: "\t") { upper -= 1 }
        let value = String(decoding: fieldValue[lower..<upper], as: UTF8.self)
        headers.add(name: name, value: value)
        fieldName.removeAll(keepingCapacity: true)
        fieldValue.removeAll(keepingCapacity: true)
        lastCallbackWasValue = false
    }

    private func stopParsing(answering status: Int, _ message: String) {
        parserStopped = true
        messageInProgress = false
        connection.setReadingHeaders(false)
        work.append(.reject(status: status, message: message, startedAt: messageStartedAt))
    }

    private func processNext() {
        guard writer == nil, !awaitingResponder, !connection.isClosed, !work.isEmpty else { return }
        let next = work.removeFirst()
        if work.count < limits.maxPipelinedRequests { connection.setReadingPaused(false) }
        switch next {
        case let .request(request, keepAlive, startedAt, upgradeToH2C):
            if upgradeToH2C, !shuttingDown, let settings = Base64URL.decode(request.headers["http2-settings"] ?? "") {
                upgrade(request: request, settings: settings)
                return
            }
            // Any other upgrade leaves bytes of an unknown protocol behind: answer, then close.
            let closeAfter = !keepAlive || shuttingDown || parser.pointee.upgrade == 1
            awaitingResponder = true
            connection.context.dispatch(request, on: connection) { [self] response in
                awaitingResponder = false
                guard !connection.isClosed else { return }
                startResponse(response, method: request.method, path: request.path, closeAfter: closeAfter, startedAt: startedAt)
                connection.schedulePump()
            }
        case let .reject(status, message, startedAt):
            startResponse(.text(message + "\n", status: status), method: "-", path: "-", closeAfter: true, startedAt: startedAt)
        }
    }

    private func upgrade(request: HTTPRequest, settings: [UInt8]) {
        connection.write(HTTP1Session.switchingProtocols)
        let session = HTTP2Session(connection: connection, upgrade: (settings: settings, request: request))
        connection.replaceHandler(session)
        let remainder = upgradeRemainder
        upgradeRemainder = []
        if !remainder.isEmpty {
            remainder.withUnsafeBytes { session.receive($0) }
        }
    }

    private func startResponse(_ response: HTTPResponse, method: String, path: String, closeAfter: Bool, startedAt: UInt64) {
        let source = ResponseBodySource(body: response.body, loop: connection.loop)
        let closing = closeAfter || shuttingDown
        var head = "HTTP/1.1 \(response.status) \(HTTPResponse.reasonPhrase(for: response.status))\r\n"
        for field in response.headers where !HTTP1Session.managedFields.contains(field.name) {
            head += "\(field.name): \(field.value)\r\n"
        }
        let bodyAllowed = response.status >= 200 && response.status != 204 && response.status != 304
        if let length = source.contentLength {
            if bodyAllowed { head += "content-length: \(length)\r\n" }
        } else if bodyAllowed {
            head += "transfer-encoding: chunked\r\n"
        }
        if closing { head += "connection: close\r\n" }
        head += "\r\n"
        connection.write(Array(head.utf8))
        writer = Writer(source: source, chunked: source.isStreaming, sendsBody: bodyAllowed && method != "HEAD",
                        closeAfter: closing, method: method, path: path, status: response.status, startedAt: startedAt)
        source.onReadable = { [weak self] in self?.connection.schedulePump() }
    }

    private func finishResponse(_ finished: Writer) {
        writer = nil
        finished.source.onReadable = nil
        connection.context.logAccess(method: finished.method, path: finished.path, status: finished.status,
                                     bytes: finished.source.bytesRead, startedAt: finished.startedAt,
                                     version: .http1_1, remote: connection.remoteAddress)
        if finished.closeAfter {
            work.removeAll()
            parserStopped = true
            connection.closeAfterFlush()
            return
        }
        processNext()
        if shuttingDown, isQuiescent { connection.closeAfterFlush() }
    }

    private static let managedFields: Set<String> = ["content-length", "transfer-encoding", "connection"]
    private static let crlf: [UInt8] = Array("\r\n".utf8)
    private static let lastChunk: [UInt8] = Array("0\r\n\r\n".utf8)
    private static let continueResponse: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)
    private static let switchingProtocols: [UInt8] = Array("HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n".utf8)

    /// One callback table for every parser; the callbacks capture nothing.
    private static let settings: UnsafeMutablePointer<http_parser_settings> = {
        let settings = UnsafeMutablePointer<http_parser_settings>.allocate(capacity: 1)
        settings.initialize(to: http_parser_settings())
        settings.pointee.on_message_begin = { parser in withOwner(parser) { $0.didBeginMessage() } }
        settings.pointee.on_url = { parser, data, length in withOwner(parser) { $0.didReceiveURL(UnsafeRawBufferPointer(start: data, count: length)) } }
        settings.pointee.on_header_field = { parser, data, length in withOwner(parser) { $0.didReceiveHeaderField(UnsafeRawBufferPointer(start: data, count: length)) } }
        settings.pointee.on_header_value = { parser, data, length in withOwner(parser) { $0.didReceiveHeaderValue(UnsafeRawBufferPointer(start: data, count: length)) } }
        settings.pointee.on_headers_complete = { parser in withOwner(parser) { $0.didCompleteHeaders() } }
        settings.pointee.on_body = { parser, data, length in withOwner(parser) { $0.didReceiveBody(UnsafeRawBufferPointer(start: data, count: length)) } }
        settings.pointee.on_message_complete = { parser in withOwner(parser) { $0.didCompleteMessage() } }
        return settings
    }()
}

/// Calls `body` with the session behind `parser.data`. The session outlives every callback (it
/// owns the parser), so no retain is needed around the call.
private func withOwner<Result>(_ parser: UnsafeMutablePointer<http_parser>?, _ body: (HTTP1Session) -> Result) -> Result {
    Unmanaged<HTTP1Session>.fromOpaque(parser!.pointee.data)._withUnsafeGuaranteedRef(body)
}

private extension String {
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        guard let first = firstIndex(where: { !set.contains($0) }) else { return "" }
        let last = lastIndex(where: { !set.contains($0) })!
        return String(self[first...last])
    }
}

private extension Substring {
    func trimmingCharacters(in characters: String) -> String {
        String(self).trimmingCharacters(in: characters)
    }
}
