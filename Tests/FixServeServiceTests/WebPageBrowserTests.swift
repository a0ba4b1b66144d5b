import FixServeService
import Foundation
import HTTPServer
import Logging
import Testing

/// The web page in a real browser: Debian's headless Chromium driven by selenium
/// (Clients/web_page_browser.py) against the server serving the bundled Fashion-MNIST models,
/// classifying Fashion-MNIST test images and training from the form. Screenshots of every step
/// go to .build/screenshots/web-page (or $FIXSERVE_SCREENSHOTS).
///
/// Skipped when the browser, its driver, selenium or the data set is missing, except under
/// CI=true, where that is a failure.
@Suite(.serialized) struct WebPageBrowserTests {
    static let packageRoot = OpenAPIConformanceTests.packageRoot
    static let dataset = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")

    static let browserAvailable: Bool = {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && PythonModules("selenium").available
            && FileManager.default.fileExists(atPath: dataset.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)
    }()
    static let required = ProcessInfo.processInfo.environment["CI"] == "true"

    @Test(.enabled(if: browserAvailable || required,
                   "needs chromium, chromium-driver, selenium and dataset-fashion-mnist (scripts/install-deps --test)"),
          .timeLimit(.minutes(10)))
    func pageClassifiesTrainsAndCancelsInChromium() async throws {
        try #require(Self.browserAvailable, "CI=true: chromium, chromium-driver, selenium or dataset-fashion-mnist is missing")
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("fixserve-browser-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        // The bundled models, copied: the test's training jobs add models to the repository.
        let models = root.appendingPathComponent("models")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.packageRoot.appendingPathComponent("models"), to: models)
        let images = root.appendingPathComponent("images")
        let sampled = try Client.run("/usr/bin/env", ["python3", Self.packageRoot.appendingPathComponent("scripts/sample_images.py").path,
                                                      images.path, "12"], timeout: 60)
        try #require(sampled.status == 0, "sample_images.py: \(sampled.stderr)")

        var logger = Logger(label: "browser-test")
        logger.logLevel = .warning
        let server = try FixServeServer.start(
            service: ServiceConfiguration(
                modelsDirectory: models, stateDirectory: root.appendingPathComponent("state"),
                batching: .init(maxBatchSize: 16, maxQueueDelayMicroseconds: 1000, maxQueueSize: 256), pollInterval: 0.5),
            http: HTTPServerConfiguration(host: "127.0.0.1", port: 0), logger: logger)
        let screenshots = ProcessInfo.processInfo.environment["FIXSERVE_SCREENSHOTS"].map { URL(fileURLWithPath: $0) }
            ?? Self.packageRoot.appendingPathComponent(".build/screenshots/web-page")
        let started = Date()
        let result = try await Client.runOffThePool("/usr/bin/env", [
            "python3", Client.scripts.appendingPathComponent("web_page_browser.py").path,
            "--url", "http://127.0.0.1:\(server.port)", "--images", images.path, "--screenshots", screenshots.path,
        ], timeout: 540)
        print("web_page_browser.py took \(String(format: "%.1f", Date().timeIntervalSince(started))) s; screenshots in \(screenshots.path)")
        print(result.stdout)
        #expect(result.status == 0, "web_page_browser.py exited \(result.status):\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(3000))")
        await server.shutdown(deadline: .now() + 5)
    }
}

extension Client {
    /// `run` on a Dispatch thread: a long client run must not hold one of the few threads of
    /// Swift's cooperative pool, which the servers of tests running beside it need for their
    /// event streams.
    static func runOffThePool(_ executable: String, _ arguments: [String], timeout: Double) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                continuation.resume(with: Swift.Result { try run(executable, arguments, timeout: timeout) })
            }
        }
    }
}
