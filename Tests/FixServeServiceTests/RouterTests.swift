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
}
