import Testing
@testable import FixServeService

@Suite struct MetricsRegistryTests {
    @Test func rendersCountersAndHistogramsInPrometheusFormat() {
        let metrics = MetricsRegistry()
        metrics.declare("requests_total", kind: .counter, help: "Requests.")
        metrics.declare("batch_size", kind: .histogram, help: "Rows per batch.", buckets: [1, 4, 16])
        metrics.add("requests_total", ["route": "infer", "status": "200"])
        metrics.add("requests_total", ["route": "infer", "status": "200"])
        metrics.observe("batch_size", [:], 3)
        metrics.observe("batch_size", [:], 20)
        let text = metrics.render()
        #expect(text.contains("# TYPE requests_total counter\n"))
        #expect(text.contains("requests_total{route=\"infer\",status=\"200\"} 2\n"))
        #expect(text.contains("batch_size_bucket{le=\"1\"} 0\n"))
        #expect(text.contains("batch_size_bucket{le=\"4\"} 1\n"))
        #expect(text.contains("batch_size_bucket{le=\"+Inf\"} 2\n"))
        #expect(text.contains("batch_size_sum 23\n"))
    }

    @Test func recordsManyObservationsUnderOneRenderedLabelSet() {
        let metrics = MetricsRegistry()
        metrics.declare("wait_seconds", kind: .histogram, help: "Waits.", buckets: [0.001, 0.01])
        let key = MetricsRegistry.render(sorted: [("model", "a\"b")])
        metrics.observe("wait_seconds", rendered: key, each: [0.0005, 0.005, 0.5])
        metrics.observe("wait_seconds", ["model": "a\"b"], 0.002)
        let text = metrics.render()
        #expect(text.contains("wait_seconds_bucket{model=\"a\\\"b\",le=\"0.001\"} 1\n"))
        #expect(text.contains("wait_seconds_bucket{model=\"a\\\"b\",le=\"0.01\"} 3\n"))
        #expect(text.contains("wait_seconds_count{model=\"a\\\"b\"} 4\n"))
    }
}
