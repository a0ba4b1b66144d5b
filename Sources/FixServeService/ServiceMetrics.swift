import Foundation
import ModelStore
import Synchronization

/// The service's metric families and the few places that record them.
struct ServiceMetrics {
    let registry = MetricsRegistry()

    static let latencyBuckets: [Double] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5]
    static let batchBuckets: [Double] = [1, 2, 4, 8, 16, 32, 64, 128, 256]

    init() {
        registry.declare("fixserve_requests_total", kind: .counter, help: "HTTP requests by route and status.")
        registry.declare("fixserve_request_duration_seconds", kind: .histogram,
                         help: "Time from a complete request to its response, by route.", buckets: Self.latencyBuckets)
        registry.declare("fixserve_queue_duration_seconds", kind: .histogram,
                         help: "Time an inference waited for its batch, by model.", buckets: Self.latencyBuckets)
        registry.declare("fixserve_compute_duration_seconds", kind: .histogram,
                         help: "Time of one batched forward pass, by model.", buckets: Self.latencyBuckets)
        registry.declare("fixserve_batch_size", kind: .histogram, help: "Inputs per batched forward pass, by model.",
                         buckets: Self.batchBuckets)
        registry.declare("fixserve_inference_count", kind: .counter, help: "Inputs inferred, by model and version.")
        registry.declare("fixserve_training_job_write_failures_total", kind: .counter,
                         help: "Training-job files that could not be written to the state directory (the job shows state_file_error).")
        // Present from the start, so an alert on any increase needs no special case for absence.
        registry.add("fixserve_training_job_write_failures_total", [:], 0)
        registry.declareGauge("fixserve_process_resident_memory_bytes", help: "Resident set size of the process.") {
            [([:], Self.residentBytes())]
        }
    }

    /// Declares the gauges read from the service's state when the metrics are rendered.
    func watch(inFlight: ManagedCounter, repository: ModelRepository<ServedModel>) {
        registry.declareGauge("fixserve_requests_in_flight", help: "Requests being handled.") { [([:], Double(inFlight.value))] }
        registry.declareGauge("fixserve_queue_depth", help: "Inputs waiting for a batch, by model.") { [weak repository] in
            (repository?.servedModels() ?? []).map {
                (labels: ["model": $0.name, "version": String($0.version)], value: Double($0.runtime.batcher.queueDepth))
            }
        }
    }

    /// The series one route records into, found once when the route is registered.
    func route(_ pattern: String) -> RouteMetrics {
        RouteMetrics(pattern: pattern, registry: registry)
    }

    /// The series the batches of one model version record into, found once when it loads.
    func batches(model: String, version: Int) -> BatchMetrics {
        BatchMetrics(model: model, version: version, registry: registry)
    }

    func trainingJobWriteFailed() {
        registry.add("fixserve_training_job_write_failures_total")
    }

    /// RSS from /proc/self/statm (pages × page size); 0 where it cannot be read.
    static func residentBytes() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Double(fields[1]) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE)))
    }
}

/// What one route records per request: its count by status and its latency. The series are
/// kept here, so a request costs two small locks and no label rendering or lookups by name.
final class RouteMetrics: Sendable {
    let pattern: String
    private let registry: MetricsRegistry
    private let duration: MetricsRegistry.Series?
    /// The statuses seen so far; a route answers with few, so a scan beats hashing.
    private let counts = Mutex<[(status: Int, series: MetricsRegistry.Series)]>([])

    init(pattern: String, registry: MetricsRegistry) {
        self.pattern = pattern
        self.registry = registry
        // Routes are the service's own patterns: nothing in them needs escaping.
        duration = registry.series("fixserve_request_duration_seconds", rendered: "{route=\"\(pattern)\"}")
    }

    func requestFinished(status: Int, seconds: Double) {
        duration?.observe(seconds)
        let known = counts.withLock { list in list.first { $0.status == status }?.series }
        if let known { return known.add() }
        // First answer with this status: the registry makes (or finds) the series.
        guard let series = registry.series("fixserve_requests_total", rendered: "{route=\"\(pattern)\",status=\"\(status)\"}") else { return }
        counts.withLock { list in
            if !list.contains(where: { $0.status == status }) { list.append((status, series)) }
        }
        series.add()
    }
}

/// What one served model version records per batch: its size, compute time, the requests'
/// queue waits and the inputs inferred. The series are found at the first batch and kept, so a
/// batch costs no label rendering or lookups by name (and a version that never computes shows
/// no series, as before).
final class BatchMetrics: Sendable {
    private struct Series {
        let size, compute, queue, inferred: MetricsRegistry.Series
    }

    private let model: String
    private let version: Int
    private let registry: MetricsRegistry
    private let series = Mutex<Series?>(nil)

    init(model: String, version: Int, registry: MetricsRegistry) {
        self.model = model
        self.version = version
        self.registry = registry
    }

    func record(_ report: DynamicBatcher.BatchReport) {
        guard let series = resolved() else { return }
        series.size.observe(Double(report.rows))
        series.compute.observe(report.computeSeconds)
        series.queue.observe(each: report.queueSeconds)
        series.inferred.add(Double(report.rows))
    }

    private func resolved() -> Series? {
        if let known = series.withLock({ $0 }) { return known }
        let byModel = MetricsRegistry.render(sorted: [("model", model)])
        let byVersion = MetricsRegistry.render(sorted: [("model", model), ("version", String(version))])
        guard let size = registry.series("fixserve_batch_size", rendered: byModel),
              let compute = registry.series("fixserve_compute_duration_seconds", rendered: byModel),
              let queue = registry.series("fixserve_queue_duration_seconds", rendered: byModel),
              let inferred = registry.series("fixserve_inference_count", rendered: byVersion) else { return nil }
        let found = Series(size: size, compute: compute, queue: queue, inferred: inferred)
        series.withLock { $0 = found }
        return found
    }
}
