/// The protocol a request arrived over.
public enum HTTPVersion: String, Sendable {
    case http1_0 = "HTTP/1.0"
    case http1_1 = "HTTP/1.1"
    case http2 = "HTTP/2"
}

/// One name/value pair from the query string, percent-decoded (`+` is a space).
public struct HTTPQueryItem: Sendable, Equatable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

/// A complete request: head and whole body, the same for HTTP/1.1 and HTTP/2.
public struct HTTPRequest: Sendable {
    /// The method, as sent (`GET`, `POST`, ...).
    public var method: String
    /// The request target as sent, path and query (`/v1/models?x=1`).
    public var target: String
    /// The path part of the target, not percent-decoded (`/v1/models`).
    public var path: String
    /// The query items, in order.
    public var queryItems: [HTTPQueryItem]
    /// The header fields (HTTP/2 pseudo-headers excluded; `:authority` appears as `host`).
    public var headers: HTTPHeaders
    /// The body bytes; empty when there was none.
    public var body: [UInt8]
    /// The protocol the request arrived over.
    public var version: HTTPVersion
    /// The peer's address, `ip:port` (IPv6 as `[ip]:port`).
    public var remoteAddress: String
    /// The event loop the request arrived on, `0 ..< HTTPServer.eventLoopCount`. A responder
    /// that answers on the connection's queue can keep state per loop that only one thread
    /// touches at a time: no lock shared between the cores on its path.
    public var eventLoop = 0

    public init(method: String, target: String, headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                version: HTTPVersion = .http1_1, remoteAddress: String = "") {
        self.method = method
        self.target = target
        let (path, query) = HTTPRequest.split(target: target)
        self.path = path.endIndex == target.endIndex ? target : String(path)
        self.queryItems = HTTPRequest.parseQuery(query)
        self.headers = headers
        self.body = body
        self.version = version
        self.remoteAddress = remoteAddress
    }

    /// The first query value named `name`, or nil.
    public func queryValue(_ name: String) -> String? {
        queryItems.first { $0.name == name }?.value
    }

    static func split(target: String) -> (path: Substring, query: Substring) {
        // A scan of the contiguous bytes: String's own index walk costs more than the rest of
        // routing a short path.
        var bytes = target
        guard let offset = bytes.withUTF8({ $0.firstIndex(of: UInt8(ascii: "?")) }) else { return (target[...], "") }
        let mark = target.utf8.index(target.utf8.startIndex, offsetBy: offset)
        return (target[..<mark], target[target.utf8.index(after: mark)...])
    }

    static func parseQuery(_ query: Substring) -> [HTTPQueryItem] {
        guard !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            if let equals = pair.firstIndex(of: "=") {
                return HTTPQueryItem(name: percentDecoded(pair[..<equals]),
                                     value: percentDecoded(pair[pair.index(after: equals)...]))
            }
            return HTTPQueryItem(name: percentDecoded(pair), value: "")
        }
    }

    /// Decodes `%XX` escapes and `+`; malformed escapes are kept literally.
    static func percentDecoded(_ text: Substring) -> String {
        let utf8 = Array(text.utf8)
        guard utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            return String(text)
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(utf8.count)
        var index = 0
        while index < utf8.count {
            let byte = utf8[index]
            if byte == UInt8(ascii: "+") {
                bytes.append(UInt8(ascii: " "))
            } else if byte == UInt8(ascii: "%"), index + 2 < utf8.count,
                      let high = hexValue(utf8[index + 1]), let low = hexValue(utf8[index + 2]) {
                bytes.append(high << 4 | low)
                index += 2
            } else {
                bytes.append(byte)
            }
            index += 1
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
