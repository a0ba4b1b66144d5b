import Testing
@testable import FixServeService

@Suite struct RouterTests {
    private func router() -> Router<String> {
        var r = Router<String>()
        r.add("GET", "/v2/models/{model}", "model")
        r.add("GET", "/v2/models/stats", "all-stats")
        r.add("POST", "/v2/models/{model}/infer", "infer")
        return r
    }

    @Test func literalSegmentsWinOverParametersWhateverTheOrder() throws {
        let match = try router().match(method: "GET", path: "/v2/models/stats").get()
        #expect(match.handler == "all-stats")
        let model = try router().match(method: "GET", path: "/v2/models/fashion%2Dmnist").get()
        #expect(model.handler == "model" && model.parameters["model"] == "fashion-mnist")
    }

    @Test func wrongMethodIsNotAllowedAndUnknownPathNotFound() {
        guard case .failure(let miss) = router().match(method: "GET", path: "/v2/models/m/infer") else {
            Issue.record("GET matched a POST route"); return
        }
        #expect(miss.miss == .methodNotAllowed(allowed: ["POST"]))
        guard case .failure(let unknown) = router().match(method: "GET", path: "/nope") else { Issue.record("matched"); return }
        #expect(unknown.miss == .notFound)
    }

    @Test func parametersAreNamedByTheirRouteWhereRoutesShareAPrefix() throws {
        var r = Router<String>()
        r.add("GET", "/v1/{kind}", "kind")
        r.add("GET", "/v1/{name}/versions/{version}", "version")
        r.add("DELETE", "/v1/{job}", "job")
        let version = try r.match(method: "GET", path: "/v1/m/versions/3").get()
        #expect(version.handler == "version" && version.parameters == ["name": "m", "version": "3"])
        let job = try r.match(method: "DELETE", path: "/v1/j7").get()
        #expect(job.handler == "job" && job.parameters == ["job": "j7"])
        let kind = try r.match(method: "HEAD", path: "//v1//cnn/").get()
        #expect(kind.handler == "kind" && kind.parameters == ["kind": "cnn"])
        guard case .failure(let miss) = r.match(method: "POST", path: "/v1/x") else { Issue.record("POST matched"); return }
        #expect(miss.miss == .methodNotAllowed(allowed: ["GET", "DELETE"]))
        guard case .failure(let deeper) = r.match(method: "GET", path: "/v1/m/versions") else { Issue.record("matched"); return }
        #expect(deeper.miss == .notFound)
    }

    @Test func aLiteralThatLeadsNowhereGivesWayToTheParameter() throws {
        var r = router()
        r.add("GET", "/v2/models/{model}/ready", "ready")
        // "stats" is a literal child of /v2/models, but /v2/models/stats/ready only exists as a model named "stats".
        let ready = try r.match(method: "GET", path: "/v2/models/stats/ready").get()
        #expect(ready.handler == "ready" && ready.parameters == ["model": "stats"])
        let bad = try r.match(method: "GET", path: "/v2/models/100%zz").get()
        #expect(bad.handler == "model" && bad.parameters["model"] == "100%zz")
        #expect(bad.parameters["version"] == nil)
    }
}
