import HTTPServer

/// Which route needs which role, and the check of a request's `Authorization: Bearer <key>`.
///
/// With no keys configured every route is open. With keys:
/// - health probes (`/v2/health/live`, `/v2/health/ready`, `/ping`), the web page and its two
///   files, and `/metrics` are open (`/metrics` needs `admin` with `protectMetrics`);
/// - inference and model reading (predictions, `/v2/models/…`, `/v2`, `/v1/models…`) need an
///   `infer` key (or an `admin` one), or nothing with `publicInference`;
/// - training jobs and the repository's index, load and unload need `admin`.
///
/// A route missing from the table needs `admin`, so a new route is closed until it is listed.
public struct AccessPolicy: Sendable {
    /// What a route asks of the caller.
    public enum Requirement: Equatable, Sendable, CustomStringConvertible {
        case open
        case role(Role)

        public var description: String {
            switch self {
            case .open: return "open"
            case .role(let role): return role.rawValue
            }
        }
    }

    /// The kinds of route the table sorts patterns into; the flags decide what each needs.
    public enum RouteKind: Sendable {
        case health, metrics, webPage, inference, administration
    }

    /// Every route of `ModelService`, as "METHOD pattern" (HEAD is checked as GET).
    public static let routes: [String: RouteKind] = [
        "GET /v2/health/live": .health,
        "GET /v2/health/ready": .health,
        "GET /ping": .health,
        "GET /metrics": .metrics,
        "GET /": .webPage,
        "GET /web/{asset}": .webPage,
        "GET /v2": .inference,
        "GET /v2/models/{model}": .inference,
        "GET /v2/models/{model}/versions/{version}": .inference,
        "GET /v2/models/{model}/ready": .inference,
        "GET /v2/models/{model}/versions/{version}/ready": .inference,
        "GET /v2/models/{model}/config": .inference,
        "GET /v2/models/{model}/versions/{version}/config": .inference,
        "GET /v2/models/{model}/stats": .inference,
        "GET /v2/models/{model}/versions/{version}/stats": .inference,
        "GET /v2/models/stats": .inference,
        "POST /v2/models/{model}/infer": .inference,
        "POST /v2/models/{model}/versions/{version}/infer": .inference,
        "POST /predictions/{model}": .inference,
        "POST /predictions/{model}/{version}": .inference,
        "PUT /predictions/{model}": .inference,
        "PUT /predictions/{model}/{version}": .inference,
        "GET /v1/models": .inference,
        "GET /v1/models/{model}": .inference,
        "POST /v2/repository/index": .administration,
        "POST /v2/repository/models/{model}/load": .administration,
        "POST /v2/repository/models/{model}/unload": .administration,
        "POST /v1/training/jobs": .administration,
        "GET /v1/training/jobs": .administration,
        "GET /v1/training/jobs/{job}": .administration,
        "DELETE /v1/training/jobs/{job}": .administration,
        "GET /v1/training/jobs/{job}/events": .administration,
    ]

    /// The accepted keys; empty serves everyone.
    public var keys: APIKeys
    /// Inference and model reading need no key.
    public var publicInference: Bool
    /// `/metrics` needs an `admin` key.
    public var protectMetrics: Bool

    public init(keys: APIKeys = APIKeys(), publicInference: Bool = false, protectMetrics: Bool = false) {
        self.keys = keys
        self.publicInference = publicInference
        self.protectMetrics = protectMetrics
    }

    /// What `method` on the route `pattern` (as registered, e.g. `/v2/models/{model}/infer`) needs.
    public func requirement(method: String, route pattern: String) -> Requirement {
        guard !keys.isEmpty else { return .open }
        switch Self.routes[(method == "HEAD" ? "GET" : method) + " " + pattern] {
        case .health?, .webPage?: return .open
        case .metrics?: return protectMetrics ? .role(.admin) : .open
        case .inference?: return publicInference ? .open : .role(.infer)
        case .administration?, nil: return .role(.admin)
        }
    }

    /// The key the request presents, when it presents a valid one.
    public func caller(of request: HTTPRequest) -> APIKeys.Key? {
        guard !keys.isEmpty, case .token(let token) = Self.bearer(in: request) else { return nil }
        return keys.key(matching: token)
    }

    /// nil when `request` may use `route`; otherwise its 401 (no key, a malformed header or an
    /// unknown key, with `WWW-Authenticate: Bearer`) or 403 (a key of a role that is not enough).
    func denial(for request: HTTPRequest, route: String) -> HTTPResponse? {
        guard case .role(let needed) = requirement(method: request.method, route: route) else { return nil }
        let what = "\(request.method) \(route) needs an API key with the role \(needed.rawValue)"
        switch Self.bearer(in: request) {
        case .missing:
            return Self.unauthorized("\(what): send it as \"Authorization: Bearer <key>\"", error: nil)
        case .malformed:
            return Self.unauthorized("\(what): the Authorization header must be \"Bearer <key>\", with one key", error: "invalid_request")
        case .token(let token):
            guard let key = keys.key(matching: token) else {
                return Self.unauthorized("\(what): the key sent is not one of this server's keys", error: "invalid_token")
            }
            guard key.role.grants(needed) else {
                var response = HTTPResponse.error(403, "\(what); the key \(key.name) has the role \(key.role.rawValue)")
                response.headers.add(name: "www-authenticate", value: "Bearer realm=\"fixserve\", error=\"insufficient_scope\"")
                return response
            }
            return nil
        }
    }

    private enum Bearer {
        case missing, malformed
        case token(String)
    }

    /// The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 6750).
    private static func bearer(in request: HTTPRequest) -> Bearer {
        let values = request.headers.values(for: "authorization")
        guard let value = values.first else { return .missing }
        guard values.count == 1 else { return .malformed }
        let parts = value.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return .malformed }
        return .token(String(parts[1]))
    }

    private static func unauthorized(_ message: String, error: String?) -> HTTPResponse {
        var response = HTTPResponse.error(401, message)
        var challenge = "Bearer realm=\"fixserve\""
        if let error { challenge += ", error=\"\(error)\"" }
        response.headers.add(name: "www-authenticate", value: challenge)
        return response
    }
}
