import Foundation
import Testing

/// deploy/ and the Dockerfile, checked offline: the manifests against the Kubernetes schemas
/// that kubernetes-validate ships and the KServe resources for the fields KServe requires
/// (Clients/validate_manifests.py); the Dockerfile's runtime packages against `ldd` of the
/// fixserve built beside this test bundle, and its HEALTHCHECK against a live server
/// (Clients/check_dockerfile.py). No container engine or cluster is needed.
@Suite(.serialized) struct DeploymentTests {
    static let packageRoot = OpenAPIConformanceTests.packageRoot
    static let validatorAvailable = PythonModules("kubernetes_validate").available

    /// Skipped without kubernetes-validate, except under CI=true, where that is a failure.
    @Test(.enabled(if: validatorAvailable || WebPageBrowserTests.required,
                   "python3 lacks kubernetes-validate (scripts/install-deps --test installs it)"))
    func manifestsMatchTheKubernetesSchemasAndEachOther() throws {
        try #require(Self.validatorAvailable, "CI=true: python3 lacks kubernetes-validate")
        let result = try Client.run("/usr/bin/env", ["python3", Client.scripts.appendingPathComponent("validate_manifests.py").path,
                                                     Self.packageRoot.appendingPathComponent("deploy").path], timeout: 120)
        #expect(result.status == 0, "validate_manifests.py:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(3000))")
        #expect(result.stdout.contains("resources valid for Kubernetes"))
    }

    @Test func dockerfileInstallsExactlyWhatTheBinaryLinksAndItsHealthCheckWorks() async throws {
        // The fixserve built with this test bundle sits beside it (.build/<triple>/<configuration>/).
        let products = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [products, products.deletingLastPathComponent()].map { $0.appendingPathComponent("fixserve").path }
        let fixserve = try #require(candidates.first { FileManager.default.isExecutableFile(atPath: $0) },
                                    "no fixserve beside \(CommandLine.arguments[0]) (swift build --build-tests builds it)")
        let server = try ServiceTestServer()
        let result = try await Client.runOffThePool("/usr/bin/env", [
            "python3", Client.scripts.appendingPathComponent("check_dockerfile.py").path,
            Self.packageRoot.appendingPathComponent("Dockerfile").path, fixserve,
            Self.packageRoot.appendingPathComponent("Sources/FixServeCLI/ServeCommand.swift").path, "--port", String(server.port),
        ], timeout: 120)
        #expect(result.status == 0, "check_dockerfile.py:\n\(result.stdout.suffix(6000))\n\(result.stderr.suffix(3000))")
        await server.stop()
    }
}
