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

    private var routes: [(method: String, segments: [Segment], handler: Handler)] = []

    mutating func add(_ method: String, _ pattern: String, _ handler: Handler) {
        let segments = pattern.split(separator: "/").map { piece -> Segment in
            piece.hasPrefix("{") && piece.hasSuffix("}") ? .parameter(String(piece.dropFirst().dropLast())) : .literal(String(piece))
        }
        routes.append((method, segments, handler))
    }

    func match(method: String, path: String) -> Result<Match, MissError> {
        let pieces = path.split(separator: "/", omittingEmptySubsequences: true)
        var allowed: [String] = []
        var best: (match: Match, literals: Int)?
        for route in routes where route.segments.count == pieces.count {
            var parameters: [String: String] = [:]
            var matched = true
            for (segment, piece) in zip(route.segments, pieces) {
                switch segment {
                case .literal(let text): matched = text == piece
                case .parameter(let name): parameters[name] = String(piece).removingPercentEncoding ?? String(piece)
                }
                if !matched { break }
            }
            guard matched else { continue }
            if route.method == method || (method == "HEAD" && route.method == "GET") {
                // A literal segment beats a parameter: /v2/models/stats is not the model "stats".
                let literals = route.segments.filter { if case .literal = $0 { return true } else { return false } }.count
                if literals > (best?.literals ?? -1) {
                    best = (Match(handler: route.handler, parameters: parameters), literals)
                }
            } else {
                allowed.append(route.method)
            }
        }
        if let best { return .success(best.match) }
        return .failure(MissError(miss: allowed.isEmpty ? .notFound : .methodNotAllowed(allowed: allowed)))
    }

    struct MissError: Error { var miss: Miss }
}

import Foundation
