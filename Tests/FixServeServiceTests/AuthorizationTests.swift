import FixServeService
import Foundation
import Testing

/// API keys through the real server: every route under no key, a wrong key, an `infer` key and
/// an `admin` key, with curl over HTTP/2 and tritonclient.
@Suite(.serialized) struct AuthorizationTests {
    static let adminKey = "admin-key-0123456789abcdef"
    static let inferKey = "infer-key-0123456789abcdef"
    static let wrongKey = "wrong-key-0123456789abcdef"

    /// One admin key given as a digest, one infer key given as itself.
    static func keys() throws -> APIKeys {
        try APIKeys.parse("""
            # the operators
            admin \(try APIKeys.credential(for: adminKey)) ops
            infer \(inferKey) frontend
            """, source: "test-keys")
    }

    static func server(publicInference: Bool = false, protectMetrics: Bool = false) throws -> ServiceTestServer {
        let keys = try keys()
        return try ServiceTestServer(accessPolicy: AccessPolicy(keys: keys, publicInference: publicInference, protectMetrics: protectMetrics)) { models in
            // A second model, for the load and unload routes.
            try ServiceTestServer.writeModel(named: "spare", into: models, seed: 6)
        }
    }

    /// `curl --http2-prior-knowledge` with the key (if any); returns status, headers and body.
    static func call(_ method: String, _ url: String, key: String?, body: (type: String, file: String)? = nil)
        throws -> (status: Int, headers: String, body: String) {
        let directory = FileManager.default.temporaryDirectory
        let headerFile = directory.appendingPathComponent("headers-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: headerFile) }
        var arguments = ["--http2-prior-knowledge", "-X", method, "-D", headerFile.path]
        if let key { arguments += ["-H", "Authorization: Bearer \(key)"] }
        if let body { arguments += ["-H", "content-type: \(body.type)", "--data-binary", "@\(body.file)"] }
        let (status, text) = try Client.curl(arguments + [url])
        return (status, (try? String(contentsOf: headerFile, encoding: .utf8)) ?? "", text)
    }

    /// The routes ModelService.registerRoutes adds, as "METHOD pattern", read from its source.
    static func registeredRoutes() throws -> Set<String> {
        let source = try String(
            contentsOf: OpenAPIConformanceTests.packageRoot.appendingPathComponent("Sources/FixServeService/ModelService.swift"), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"add(?:Deferred|Suspending)?\("([A-Z]+)", "([^"]+)""#)
        return Set(pattern.matches(in: source, range: NSRange(source.startIndex..., in: source)).compactMap { match -> String? in
            guard let method = Range(match.range(at: 1), in: source), let path = Range(match.range(at: 2), in: source) else { return nil }
            return "\(source[method]) \(source[path])"
        })
    }

    @Test func thePolicyNamesEveryRegisteredRouteAndNoOther() throws {
        let registered = try Self.registeredRoutes()
        #expect(registered.count >= 25, "found only \(registered.count) routes in ModelService.swift")
        #expect(registered == Set(AccessPolicy.routes.keys),
                "unlisted: \(registered.subtracting(AccessPolicy.routes.keys).sorted()), stale: \(Set(AccessPolicy.routes.keys).subtracting(registered).sorted())")
        // A route the table does not know needs admin.
        let policy = AccessPolicy(keys: try Self.keys())
        #expect(policy.requirement(method: "GET", route: "/v3/something/new") == .role(.admin))
        #expect(policy.requirement(method: "HEAD", route: "/v2/health/ready") == .open)
        #expect(AccessPolicy().requirement(method: "POST", route: "/v1/training/jobs") == .open)
    }

    /// Every route, in an order that lets each succeed for the admin key: the training job the
    /// routes name is a long one, cancelled before its event stream is read; load and unload
    /// go last and touch only the spare model.
    @Test func everyRouteAnswersEachRoleAsThePolicySays() async throws {
        let server = try Self.server()
        defer { server.stop() }
        let policy = AccessPolicy(keys: try Self.keys())
        let scratch = server.root
        let image = scratch.appendingPathComponent("image.png")
        try Data(try ServiceTestServer.images(count: 1)[0].bytes).write(to: image)
        let inferBody = scratch.appendingPathComponent("infer.json")
        try Data(#"{"inputs":[{"name":"input","shape":[1,28,28],"datatype":"UINT8","data":[\#((0..<784).map { _ in "7" }.joined(separator: ","))]}]}"#.utf8)
            .write(to: inferBody)
        let smallJob = scratch.appendingPathComponent("small-job.json")
        try Data(#"{"model":"small","backbone":"mlp","epochs":1,"batch_size":32,"training_limit":64}"#.utf8).write(to: smallJob)
        let longJob = scratch.appendingPathComponent("long-job.json")
        try Data(#"{"model":"long","epochs":10}"#.utf8).write(to: longJob)
        let empty = scratch.appendingPathComponent("empty.json")
        try Data().write(to: empty)

        let submitted = try Self.call("POST", "\(server.base)/v1/training/jobs", key: Self.adminKey, body: ("application/json", longJob.path))
        try #require(submitted.status == 202, "\(submitted.body)")
        let job = try #require((try JSONSerialization.jsonObject(with: Data(submitted.body.utf8)) as? [String: Any])?["id"] as? String)
        #expect(submitted.body.contains(#""owner":"ops""#), "\(submitted.body)")
        defer { _ = try? Self.call("DELETE", "\(server.base)/v1/training/jobs/\(job)", key: Self.adminKey) }

        let last = ["DELETE /v1/training/jobs/{job}", "GET /v1/training/jobs/{job}/events",
                    "POST /v2/repository/models/{model}/unload", "POST /v2/repository/models/{model}/load"]
        let routes = AccessPolicy.routes.keys.filter { !last.contains($0) }.sorted() + last
        for route in routes {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let (method, pattern) = (parts[0], parts[1])
            let model = pattern.contains("/repository/") ? "spare" : "tiny"
            let path = pattern.replacingOccurrences(of: "{model}", with: model).replacingOccurrences(of: "{version}", with: "1")
                .replacingOccurrences(of: "{job}", with: job).replacingOccurrences(of: "{asset}", with: "fixserve.js")
            var body: (type: String, file: String)?
            if pattern.hasPrefix("/predictions") {
                body = ("image/png", image.path)
            } else if pattern.hasSuffix("/infer") {
                body = ("application/json", inferBody.path)
            } else if pattern == "/v1/training/jobs" && method == "POST" {
                body = ("application/json", smallJob.path)
            } else if method == "POST" {
                body = ("application/json", empty.path)
            }
            let url = server.base + path
            let needed = policy.requirement(method: method, route: pattern)
            for (caller, key) in [("no key", nil), ("a wrong key", Self.wrongKey), ("the infer key", Self.inferKey), ("the admin key", Self.adminKey)] as [(String, String?)] {
                let answer = try Self.call(method, url, key: key, body: body)
                let allowed = needed == .open || key == Self.adminKey || (key == Self.inferKey && needed == AccessPolicy.Requirement.role(.infer))
                let what = "\(route) with \(caller) (needs \(needed)): \(answer.status) \(answer.body.prefix(300))"
                if allowed {
                    #expect((200..<300).contains(answer.status), "\(what)")
                } else if key == Self.inferKey {
                    #expect(answer.status == 403, "\(what)")
                    #expect(answer.body.contains("admin") && answer.body.contains("frontend"), "\(what)")
                } else {
                    #expect(answer.status == 401, "\(what)")
                    #expect(answer.headers.lowercased().contains("www-authenticate: bearer"), "\(what)\n\(answer.headers)")
                    #expect(answer.body.contains("\"error\""), "\(what)")
                }
            }
        }
        // Refusals are counted by route and status like every other answer.
        let metrics = try Client.curl(["\(server.base)/metrics"]).body
        #expect(metrics.contains(#"fixserve_requests_total{route="/v1/training/jobs",status="401"} 4"#), "\(metrics.prefix(3000))")
        #expect(metrics.contains(#"fixserve_requests_total{route="/v1/training/jobs",status="403"} 2"#))
    }

    @Test func malformedAuthorizationHeadersAreUnauthorized() throws {
        let server = try Self.server()
        defer { server.stop() }
        for header in ["Basic \(Data("ops:\(Self.adminKey)".utf8).base64EncodedString())", "Bearer", "Bearer  ", "Bearer a b"] {
            // HTTP/1.1: HTTP/2 itself refuses a field value that ends in a space.
            let (status, body) = try Client.curl(["-H", "Authorization: \(header)", "\(server.base)/v1/models"])
            #expect(status == 401, "\(header): \(status) \(body)")
        }
        // The scheme is case-insensitive (RFC 6750).
        #expect(try Client.curl(["-H", "Authorization: bearer \(Self.inferKey)", "\(server.base)/v1/models"]).status == 200)
    }

    @Test func publicInferenceOpensInferenceButNotTrainingOrTheRepository() throws {
        let server = try Self.server(publicInference: true)
        defer { server.stop() }
        let image = server.root.appendingPathComponent("image.png")
        try Data(try ServiceTestServer.images(count: 1)[0].bytes).write(to: image)
        #expect(try Self.call("POST", "\(server.base)/predictions/tiny", key: nil, body: ("image/png", image.path)).status == 200)
        #expect(try Self.call("GET", "\(server.base)/v2/models/tiny", key: nil).status == 200)
        #expect(try Self.call("GET", "\(server.base)/v1/models", key: nil).status == 200)
        #expect(try Self.call("GET", "\(server.base)/v1/training/jobs", key: nil).status == 401)
        #expect(try Self.call("GET", "\(server.base)/v1/training/jobs", key: Self.inferKey).status == 403)
        #expect(try Self.call("POST", "\(server.base)/v2/repository/index", key: nil).status == 401)
        #expect(try Self.call("GET", "\(server.base)/v1/training/jobs", key: Self.adminKey).status == 200)
    }

    @Test func protectMetricsPutsMetricsBehindAdmin() throws {
        let open = try Self.server()
        #expect(try Self.call("GET", "\(open.base)/metrics", key: nil).status == 200)
        open.stop()
        let server = try Self.server(protectMetrics: true)
        defer { server.stop() }
        #expect(try Self.call("GET", "\(server.base)/metrics", key: nil).status == 401)
        #expect(try Self.call("GET", "\(server.base)/metrics", key: Self.inferKey).status == 403)
        #expect(try Self.call("GET", "\(server.base)/metrics", key: Self.adminKey).status == 200)
        #expect(try Self.call("GET", "\(server.base)/v2/health/ready", key: nil).status == 200)
    }

    @Test(Client.python.condition)
    func tritonClientInfersWithABearerHeaderAndIsRefusedWithout() throws {
        try Client.python.require()
        let server = try Self.server()
        defer { server.stop() }
        let result = try Client.run("/usr/bin/env", ["python3", Client.scripts.appendingPathComponent("triton_bearer.py").path,
                                                     "127.0.0.1:\(server.port)", "tiny", Self.inferKey])
        #expect(result.status == 0, "triton_bearer.py: \(result.stdout)\n\(result.stderr)")
        #expect(result.stdout.contains("metadata and inference with the key: ok"), "\(result.stdout)")
    }
}

extension AuthorizationTests {
    static let yaml = PythonModules("yaml")

    /// openapi.yaml's `x-required-role` of every operation is what the policy asks for.
    @Test(yaml.condition)
    func theSpecificationNamesTheRoleThePolicyAsks() throws {
        try Self.yaml.require()
        let list = """
            import sys, yaml
            spec = yaml.safe_load(open(sys.argv[1]))
            for path, item in spec["paths"].items():
                for method, operation in item.items():
                    if method in ("get", "put", "post", "delete"):
                        print(method.upper(), path, operation.get("x-required-role", "(missing)"))
            """
        let result = try Client.run("/usr/bin/env", ["python3", "-c", list, OpenAPIConformanceTests.specification.path], timeout: 60)
        try #require(result.status == 0, "could not read openapi.yaml:\n\(result.stderr.suffix(4000))")
        let policy = AccessPolicy(keys: try Self.keys())
        var checked = 0
        for line in result.stdout.split(separator: "\n") {
            let fields = line.split(separator: " ").map(String.init)
            try #require(fields.count == 3, "\(line)")
            let expected = policy.requirement(method: fields[0], route: fields[1])
            #expect(fields[2] == (expected == .open ? "none" : expected.description), "\(fields[0]) \(fields[1]): the spec says \(fields[2]), the server \(expected)")
            checked += 1
        }
        #expect(checked == AccessPolicy.routes.count)
    }
}
