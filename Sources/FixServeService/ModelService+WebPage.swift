import HTTPServer

/// The web page at `/` and the two files it loads from `/web/`.
extension ModelService {
    func webPage() -> HTTPResponse {
        Self.webResponse(WebPage.html, type: "text/html; charset=utf-8")
    }

    func webAsset(_ parameters: RouteParameters) throws -> HTTPResponse {
        switch parameters["asset"] ?? "" {
        case WebPage.stylesheetName: return Self.webResponse(WebPage.stylesheet, type: "text/css; charset=utf-8")
        case WebPage.scriptName: return Self.webResponse(WebPage.script, type: "text/javascript; charset=utf-8")
        default:
            throw ServiceError.notFound("no web asset \(parameters["asset"] ?? ""); the page uses /web/\(WebPage.stylesheetName) and /web/\(WebPage.scriptName)")
        }
    }

    /// The page runs only its own files (no inline script, no other origin), so an injected
    /// label or model name cannot run code in it; `no-cache` lets a new server's page replace
    /// the old one at once.
    private static func webResponse(_ body: [UInt8], type: String) -> HTTPResponse {
        HTTPResponse(status: 200, headers: [
            "content-type": type,
            "cache-control": "no-cache",
            "x-content-type-options": "nosniff",
            "referrer-policy": "no-referrer",
            "content-security-policy": WebPage.contentSecurityPolicy,
        ], body: .bytes(body))
    }
}
