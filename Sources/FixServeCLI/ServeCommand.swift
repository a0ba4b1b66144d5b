import ArgumentParser
import Dispatch
import FixServeService
import Foundation
import HTTPServer
import Logging
import ProcessAllocator

/// `fixserve serve`: serves every model in the repository over HTTP/1.1 and HTTP/2.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the models in a repository (Open Inference Protocol, TorchServe-style predictions, training jobs).",
        discussion: """
            Every option can also be set with an environment variable FIXSERVE_<OPTION>, e.g. FIXSERVE_PORT=9000.

            API keys: --auth-file names a file with one "<role> <credential> [<name>]" per line, where the role is \
            infer (predictions, inference, model metadata and lists) or admin (also training jobs and the model \
            repository), and the credential is "sha256:" and the key's SHA-256 digest (`fixserve auth digest`) or the \
            key itself; "#" starts a comment. FIXSERVE_API_KEYS takes the same entries separated by commas. Clients \
            send "Authorization: Bearer <key>". Health probes, the web page and /metrics stay open. Without keys the \
            server serves everyone and listens on 127.0.0.1 unless --insecure-public is given.
            """)

    @Option(help: "Address to bind (default: 0.0.0.0 with API keys or --insecure-public, else 127.0.0.1).")
    var host = Environment.string("host", "")
    @Option(help: "TCP port.") var port = Environment.int("port", 8080)
    @Option(help: "The model repository.") var models = Environment.string("models", "./models")
    @Option(help: "Where training jobs are recorded.") var state = Environment.string("state", "./state")
    @Option(help: "Where folder data sets for training jobs are looked up (disabled when unset).")
    var dataRoot = Environment.string("data-root", "")
    @Option(help: "PEM certificate for TLS (with --tls-key).") var tlsCert = Environment.string("tls-cert", "")
    @Option(help: "PEM private key for TLS.") var tlsKey = Environment.string("tls-key", "")
    @Option(help: "Largest batch for models without config.json.") var maxBatchSize = Environment.int("max-batch-size", 64)
    @Option(help: "How long a batch may wait for more inputs, in µs, for models without config.json (0: batch what queued while the model was busy).")
    var maxQueueDelayUs = Environment.int("max-queue-delay-us", 0)
    @Option(help: "Longest a batch may hold a connection's event loop, in ms: under load, models fast enough for 8 inputs within it batch on the loop that received them, with no hand-off to a compute thread; slower ones, and batches over it, go to the compute threads (0: batches never run on a loop).")
    var loopBudgetMs = Environment.double("loop-budget-ms", 2)
    @Option(help: "Most inputs waiting per model before 503.") var maxQueueSize = Environment.int("max-queue-size", 1024)
    @Option(help: "Seconds between repository scans for new versions (0 disables).")
    var pollInterval = Environment.double("poll-interval", 2)
    @Option(help: "Finished training jobs kept in memory and listed; older ones stay in the state directory, still readable by id.")
    var maxFinishedJobs = Environment.int("max-finished-jobs", 100)
    @Option(help: "Threads one batch may use (the forward pass splits a batch over them; BLAS runs single-threaded).")
    var threads = Environment.int("threads", 1)
    @Option(help: "Model instances per version: batches that may compute at once, each with its own buffers (default: one per core, so the cores stay busy while a batch's answers go out).")
    var instances = Environment.int("instances", ProcessInfo.processInfo.activeProcessorCount)
    @Option(help: "Threads a training job shares its work among; the trainer and its helper threads run at a lower priority (nice +10) than serving.")
    var trainingThreads = Environment.int("training-threads", 1)
    @Option(help: "Training jobs also checkpoint after every N batches (0: after every epoch only).")
    var checkpointEveryBatches = Environment.int("checkpoint-every-batches", 0)
    @Option(help: "Largest request body in bytes.") var maxBodySize = Environment.int("max-body-size", 64 << 20)
    @Option(help: "Seconds in-flight requests get on SIGTERM.") var shutdownGrace = Environment.double("shutdown-grace", 10)
    @Option(help: "Log level: trace, debug, info, notice, warning, error.") var logLevel = Environment.string("log-level", "info")
    @Option(help: "API-key file: one \"<role> <credential> [<name>]\" per line (see above); keys from FIXSERVE_API_KEYS are added.")
    var authFile = Environment.string("auth-file", "")
    @Flag(help: "With API keys: predictions, inference and model metadata need no key (training and the repository still need admin).")
    var publicInference = Environment.bool("public-inference")
    @Flag(help: "With API keys: /metrics needs an admin key.") var protectMetrics = Environment.bool("protect-metrics")
    @Flag(help: "Without API keys: listen on a public address anyway, serving everyone everything.")
    var insecurePublic = Environment.bool("insecure-public")
    @Option(help: "Training jobs one API key may have waiting to start (0: no limit); the whole queue holds 16.")
    var maxQueuedJobsPerKey = Environment.int("max-queued-jobs-per-key", TrainingLimits().maxQueuedPerOwner)
    @Option(help: "Largest training job in sample passes, epochs × training samples (0: no limit; default 10 epochs of Fashion-MNIST).")
    var maxTrainingSamples = Environment.int("max-training-samples", TrainingLimits.defaultMaxSamplePasses)

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0…65535, got \(port)") }
        guard tlsCert.isEmpty == tlsKey.isEmpty else { throw ValidationError("--tls-cert and --tls-key go together") }
        guard maxBatchSize > 0, maxQueueSize > 0, maxQueueDelayUs >= 0, threads > 0, instances > 0, maxBodySize > 0 else {
            throw ValidationError("batch size, queue size, threads and body size must be positive; the delay non-negative")
        }
        guard loopBudgetMs >= 0, loopBudgetMs.isFinite else { throw ValidationError("--loop-budget-ms must be 0 or more, got \(loopBudgetMs)") }
        guard trainingThreads > 0 else { throw ValidationError("--training-threads must be positive, got \(trainingThreads)") }
        guard checkpointEveryBatches >= 0 else {
            throw ValidationError("--checkpoint-every-batches must be 0 (epochs only) or more, got \(checkpointEveryBatches)")
        }
        guard maxFinishedJobs >= 0 else { throw ValidationError("--max-finished-jobs must be 0 or more, got \(maxFinishedJobs)") }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("unknown --log-level \(logLevel)") }
        guard maxQueuedJobsPerKey >= 0, maxTrainingSamples >= 0 else {
            throw ValidationError("--max-queued-jobs-per-key and --max-training-samples must be 0 (no limit) or more")
        }
    }

    /// The keys from --auth-file and FIXSERVE_API_KEYS (either, both or neither).
    private func loadKeys() throws -> APIKeys {
        var keys = APIKeys()
        if !authFile.isEmpty { keys = try APIKeys.load(contentsOf: URL(fileURLWithPath: authFile)) }
        if let entries = ProcessInfo.processInfo.environment["FIXSERVE_API_KEYS"], !entries.isEmpty {
            keys = try keys.adding(APIKeys.parse(entries: entries, source: "FIXSERVE_API_KEYS"), source: "FIXSERVE_API_KEYS")
        }
        return keys
    }

    func run() async throws {
        var logger = Logger(label: "fixserve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        // Both errors say what to fix; ArgumentParser prints them and exits with status 1.
        let keys = try loadKeys()
        let boundHost = try ListenAddressPolicy.host(requested: host, hasKeys: !keys.isEmpty, insecurePublic: insecurePublic)
        if keys.isEmpty {
            logger.warning("no API keys configured: every caller may run inference, train, load and unload models", metadata: [
                "host": "\(boundHost)",
                "fix": "give --auth-file or FIXSERVE_API_KEYS; \(insecurePublic ? "--insecure-public serves everyone" : "listening on loopback only")",
            ])
        } else {
            logger.info("API keys", metadata: [
                "admin": "\(keys.keys.filter { $0.role == .admin }.map(\.name))", "infer": "\(keys.keys.filter { $0.role == .infer }.map(\.name))",
                "public_inference": "\(publicInference)", "protect_metrics": "\(protectMetrics)",
            ])
        }
        var limits = HTTPServerConfiguration.Limits()
        limits.maxBodySize = maxBodySize
        var http = HTTPServerConfiguration(host: boundHost, port: port, limits: limits)
        if !tlsCert.isEmpty { http.tls = .init(certificatePath: tlsCert, privateKeyPath: tlsKey) }
        // Access-log lines are buffered and written off the connection threads.
        if logger.logLevel <= .info { http.accessLog = AccessLog() }
        var service = ServiceConfiguration(
            modelsDirectory: URL(fileURLWithPath: models), stateDirectory: URL(fileURLWithPath: state),
            dataRoot: dataRoot.isEmpty ? nil : URL(fileURLWithPath: dataRoot),
            batching: .init(maxBatchSize: maxBatchSize, maxQueueDelayMicroseconds: maxQueueDelayUs, maxQueueSize: maxQueueSize,
                            instances: instances, loopBudgetSeconds: loopBudgetMs / 1000),
            pollInterval: pollInterval, maxFinishedTrainingJobs: maxFinishedJobs, computeThreads: threads,
            accessPolicy: AccessPolicy(keys: keys, publicInference: publicInference, protectMetrics: protectMetrics),
            trainingLimits: TrainingLimits(maxQueuedPerOwner: maxQueuedJobsPerKey, maxSamplePasses: maxTrainingSamples))
        service.trainingThreads = trainingThreads
        service.checkpointEveryBatches = checkpointEveryBatches > 0 ? checkpointEveryBatches : nil
        let server = try FixServeServer.start(service: service, http: http, logger: logger)
        for status in server.service.repository.statuses() {
            logger.info("model", metadata: ["name": "\(status.name)", "state": "\(status.state)",
                                             "versions": "\(status.versions.map(\.version))"])
        }
        logger.info("allocator", metadata: ["jemalloc": "\(ProcessAllocator.version)"])
        server.service.addGauge("fixserve_allocator_allocated_bytes",
                                help: "Bytes the allocator has handed out and not had back (growth under steady load is a leak).") {
            ProcessAllocator.statistics().map { Double($0.allocatedBytes) }
        }
        server.service.addGauge("fixserve_allocator_resident_bytes", help: "Bytes of physical memory the allocator's pages occupy.") {
            ProcessAllocator.statistics().map { Double($0.residentBytes) }
        }
        let grace = shutdownGrace
        let signals = ShutdownSignals { await server.shutdown(deadline: .now() + grace) }
        signals.install()
        // Serve until a signal ends the process.
        while true { try await Task.sleep(for: .seconds(3600)) }
    }
}
