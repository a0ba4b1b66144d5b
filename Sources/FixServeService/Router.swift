/// Matches a method and a path against route patterns such as `/v2/models/{name}/versions/{version}/infer`.
///
/// Generic over the handler so that it knows nothing of HTTP types; patterns are split into
/// segments once, at registration.
struct Router<Handler> {
    /// A matched route: its handler and the values of its `{parameters}`.
    struct Match {
        var handler: Handler
        var parameters: [String: String]
    }

    /// Why no route matched.
    enum Miss: Equatable {
        case notFound
        /// The path exists for other methods.
        case methodNotAllowed(allowed: [String])
    }

    private enum Segment: Equatable {
        case literal(String)
        case parameter(String)
    }

    /// The routes, in parallel arrays: the scan reads only methods and segments, and reading
    /// them from tuples would copy (and retain) every handler on the way.
    private var methods: [String] = []
    private var patterns: [[Segment]] = []
    private var literalCounts: [Int] = []
    private var handlers: [Handler] = []
    /// Route indices by their number of segments: a path is compared only with routes of its length.
    private var bySegmentCount: [Int: [Int]] = [:]
    /// Routes without parameters by their canonical path ("/v2/health/live"): a probe or a
    /// metadata poll is found by one lookup instead of a scan of every pattern.
    private var exact: [String: [Int]] = [:]

    mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = pattern.split(separator: "/").map { piece -> Segment in
            piece.hasPrefix("{") && piece.hasSuffix("}") ? .parameter(String(piece.dropFirst().dropLast())) : .literal(String(piece))
        }
        let literals = segments.filter { if case .literal = $0 { return true } else { return false } }.count
        let index = handlers.count
        if literals == segments.count {
            exact["/" + segments.map { if case .literal(let text) = $0 { text } else { "" } }.joined(separator: "/"), default: []]
                .append(index)
        }
        bySegmentCount[segments.count, default: []].append(index)
        methods.append(method)
        patterns.append(segments)
        literalCounts.append(literals)
        handlers.append(handler)
    }

    func match(method: String, path: String) -> Result<Match, MissError> {
        // A parameterless route has the most literals of any route its path matches, so it wins
        // whenever its method does; other cases (wrong method, odd slashes) take the scan.
        if let candidates = exact[path] {
            for index in candidates where methods[index] == method || (method == "HEAD" && methods[index] == "GET") {
                return .success(Match(handler: handlers[index], parameters: [:]))
            }
        }
        let pieces = Self.segments(of: path)
        var allowed: [String] = []
        var best: Int?
        for index in bySegmentCount[pieces.count] ?? [] {
            var matched = true
            for position in pieces.indices {
                // String == Substring compares bytes (memcmp) when both are ASCII; a generic
                // `elementsEqual` over UTF-8 views steps through them one byte at a time.
                if case .literal(let text) = patterns[index][position], text != pieces[position] {
                    matched = false
                    break
                }
            }
            guard matched else { continue }
            let routeMethod = methods[index]
            if routeMethod == method || (method == "HEAD" && routeMethod == "GET") {
                // A literal segment beats a parameter: /v2/models/stats is not the model "stats".
                if best.map({ literalCounts[index] > literalCounts[$0] }) ?? true { best = index }
            } else {
                allowed.append(routeMethod)
            }
        }
        if let best {
            // Parameters only for the winner.
            var parameters: [String: String] = [:]
            for (segment, piece) in zip(patterns[best], pieces) {
                guard case .parameter(let name) = segment else { continue }
                parameters[name] = piece.utf8.contains(UInt8(ascii: "%")) ? String(piece).removingPercentEncoding ?? String(piece) : String(piece)
            }
            return .success(Match(handler: handlers[best], parameters: parameters))
        }
        return .failure(MissError(miss: allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)))
    }

    struct MissError: Error { var miss: Miss }

    /// The non-empty pieces between slashes; a plain byte scan, several times cheaper than `split`.
    private static func segments(of path: String) -> [Substring] {
        var pieces: [Substring] = []
        pieces.reserveCapacity(8)
        let bytes = path.utf8
        var start = bytes.startIndex
        var index = start
        while index != bytes.endIndex {
            if bytes[index] == UInt8(ascii: "/") {
                if start != index { pieces.append(path[start..<index]) }
                start = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        if start != bytes.endIndex { pieces.append(path[start...]) }
        return pieces
    }
}

import Foundation
