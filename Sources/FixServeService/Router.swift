import Foundation

/// Matches a method and a path against route patterns such as `/v2/models/{name}/versions/{version}/infer`.
///
/// Generic over the handler so that it knows nothing of HTTP types. The patterns form a tree of
/// segments, built once at registration; a path is matched by walking its bytes down that tree,
/// with no array of pieces, no hashing and no allocation until a route has matched: routing runs
/// on the connection's thread for every request.
struct Router<Handler> {
    /// A matched route: its handler and the values of its `{parameters}`.
    struct Match {
        var handler: Handler
        var parameters: RouteParameters
    }

    /// Why no route matched.
    enum Miss: Equatable {
        case notFound
        /// The path exists for other methods.
        case methodNotAllowed(allowed: [String])
    }

    struct MissError: Error { var miss: Miss }

    /// Patterns are at most this many segments deep, so a match keeps its captures on the stack.
    static var maximumSegments: Int { 8 }

    /// One position in the patterns: where a path goes next from here, and the routes that end here.
    private struct Node {
        /// Each literal's place in `literalBytes` and the node it leads to.
        var literals: [(start: Int, count: Int, node: Int)] = []
        /// Where any other segment goes.
        var parameter: Int?
        var routes: [Int] = []
    }

    private struct Route {
        var method: String
        /// The names of the pattern's parameters, in order.
        var parameterNames: [String]
        var handler: Handler
    }

    private typealias Captures = InlineArray<8, Range<Int>>

    private var nodes = [Node()]
    private var routes: [Route] = []
    /// Every literal segment's bytes, end to end: comparing against them touches no reference count.
    private var literalBytes: [UInt8] = []

    mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let pieces = pattern.split(separator: "/")
        precondition(pieces.count <= Self.maximumSegments, "route \(pattern) has more than \(Self.maximumSegments) segments")
        var node = 0
        var names: [String] = []
        for piece in pieces {
            if piece.hasPrefix("{") && piece.hasSuffix("}") {
                names.append(String(piece.dropFirst().dropLast()))
                if nodes[node].parameter == nil { nodes[node].parameter = newNode() }
                node = nodes[node].parameter!
            } else {
                let bytes = Array(piece.utf8)
                if let next = nodes[node].literals.first(where: { literalBytes[$0.start..<$0.start + $0.count].elementsEqual(bytes) })?.node {
                    node = next
                } else {
                    let next = newNode()
                    nodes[node].literals.append((literalBytes.count, bytes.count, next))
                    literalBytes += bytes
                    node = next
                }
            }
        }
        nodes[node].routes.append(routes.count)
        routes.append(Route(method: method, parameterNames: names, handler: handler))
    }

    private mutating func newNode() -> Int {
        nodes.append(Node())
        return nodes.count - 1
    }

    /// The route for `method` and `path`. Empty segments (`//`, a trailing `/`) are skipped; a
    /// literal segment beats a parameter (`/v2/models/stats` is not the model "stats"), and a
    /// `HEAD` takes a `GET` route.
    func match(method: String, path: String) -> Result<Match, MissError> {
        var path = path
        return path.withUTF8 { bytes in
            var captures = Captures(repeating: 0..<0)
            if let index = find(from: 0, at: 0, in: bytes, method: method, captures: &captures, captured: 0) {
                let route = routes[index]
                var parameters = RouteParameters()
                for (position, name) in route.parameterNames.enumerated() {
                    parameters.append(name: name, value: Self.decoded(UnsafeBufferPointer(rebasing: bytes[captures[position]])))
                }
                return .success(Match(handler: route.handler, parameters: parameters))
            }
            var allowed: [String] = []
            collectMethods(from: 0, at: 0, in: bytes, into: &allowed)
            return .failure(MissError(miss: allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)))
        }
    }

    /// Depth first, literals before the parameter: the first route found has the most literals
    /// where it parts from the others.
    private func find(from node: Int, at offset: Int, in bytes: UnsafeBufferPointer<UInt8>, method: String,
                      captures: inout Captures, captured: Int) -> Int? {
        guard let segment = Self.segment(after: offset, in: bytes) else {
            for index in nodes[node].routes where Self.accepts(routes[index].method, for: method) { return index }
            return nil
        }
        for literal in nodes[node].literals where equal(literal, bytes[segment]) {
            if let found = find(from: literal.node, at: segment.upperBound, in: bytes, method: method,
                                captures: &captures, captured: captured) {
                return found
            }
        }
        guard let next = nodes[node].parameter else { return nil }
        captures[captured] = segment
        return find(from: next, at: segment.upperBound, in: bytes, method: method, captures: &captures, captured: captured + 1)
    }

    /// The methods of every route whose pattern matches the path: the `Allow` of a 405.
    private func collectMethods(from node: Int, at offset: Int, in bytes: UnsafeBufferPointer<UInt8>, into allowed: inout [String]) {
        guard let segment = Self.segment(after: offset, in: bytes) else {
            allowed += nodes[node].routes.map { routes[$0].method }
            return
        }
        for literal in nodes[node].literals where equal(literal, bytes[segment]) {
            collectMethods(from: literal.node, at: segment.upperBound, in: bytes, into: &allowed)
        }
        if let next = nodes[node].parameter { collectMethods(from: next, at: segment.upperBound, in: bytes, into: &allowed) }
    }

    /// The next non-empty piece between slashes at or after `offset`, or nil at the end.
    private static func segment(after offset: Int, in bytes: UnsafeBufferPointer<UInt8>) -> Range<Int>? {
        var start = offset
        while start < bytes.count && bytes[start] == UInt8(ascii: "/") { start += 1 }
        guard start < bytes.count else { return nil }
        var end = start + 1
        while end < bytes.count && bytes[end] != UInt8(ascii: "/") { end += 1 }
        return start..<end
    }

    private func equal(_ literal: (start: Int, count: Int, node: Int), _ piece: Slice<UnsafeBufferPointer<UInt8>>) -> Bool {
        literal.count == piece.count && literalBytes.withUnsafeBufferPointer {
            memcmp($0.baseAddress! + literal.start, piece.base.baseAddress! + piece.startIndex, piece.count) == 0
        }
    }

    private static func accepts(_ routeMethod: String, for method: String) -> Bool {
        routeMethod == method || (method == "HEAD" && routeMethod == "GET")
    }

    /// A parameter's text, percent-decoded when it has escapes (and kept as sent when they are malformed).
    private static func decoded(_ piece: UnsafeBufferPointer<UInt8>) -> String {
        let text = String(decoding: piece, as: UTF8.self)
        return piece.contains(UInt8(ascii: "%")) ? text.removingPercentEncoding ?? text : text
    }
}
