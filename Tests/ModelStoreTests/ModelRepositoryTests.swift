import Foundation
import Numerics
import Testing
@testable import ModelStore

/// What the tests build from a stored model: the one value every tensor holds, so a reader can
/// tell a complete version (every tensor = its version number) from a mixed one.
private struct FillRuntime: Sendable {
    struct MixedValues: Error {}
    let fill: Float
    let tensorCount: Int

    init(_ stored: StoredModel) throws {
        let values = Set(stored.tensors.values.flatMap(\.data))
        guard values.count == 1, let fill = values.first else { throw MixedValues() }
        self.fill = fill
        self.tensorCount = stored.tensors.count
    }
}

/// A lock-protected value shared between test threads.
private final class Shared<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
    func update(_ body: (inout Value) -> Void) { lock.lock(); body(&value); lock.unlock() }
}

@Suite struct ModelRepositoryTests {
    private let manifest = Fixtures.manifest()

    private func makeRepository(_ root: URL) -> ModelRepository<FillRuntime> {
        ModelRepository(root: root) { try FillRuntime($0) }
    }

    /// Saves version `version` of model `name` with every tensor equal to the version number.
    private func saveVersion(_ version: Int, of name: String, in root: URL) throws {
        try StoredModel.save(
            manifest: manifest, tensors: Fixtures.tensors(for: manifest, value: Float(version)),
            into: root.appendingPathComponent(name), version: version)
    }

    private func writeConfig(_ json: String, for name: String, in root: URL) throws {
        try Data(json.utf8).write(to: root.appendingPathComponent(name).appendingPathComponent(ModelConfig.fileName))
    }

    private func servedVersions(_ repository: ModelRepository<FillRuntime>, _ name: String) -> [Int] {
        repository.status(of: name)?.versions.filter { $0.state == .ready }.map(\.version) ?? []
    }

    @Test func goodModelLoadsAndBadModelReportsItsError() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "good", in: root)
        var bad = manifest
        bad.labels = ["only one"]
        let badVersion = root.appendingPathComponent("bad/1")
        try FileManager.default.createDirectory(at: badVersion, withIntermediateDirectories: true)
        try bad.jsonData().write(to: badVersion.appendingPathComponent(StoredModel.manifestFileName))
        try SafetensorsFile(tensors: Fixtures.tensors(for: manifest)).write(to: badVersion.appendingPathComponent(StoredModel.tensorsFileName))
        // A save interrupted before its rename: must be invisible.
        let partial = root.appendingPathComponent("good/.tmp-interrupted")
        try FileManager.default.createDirectory(at: partial, withIntermediateDirectories: true)
        try Data([1, 2]).write(to: partial.appendingPathComponent(StoredModel.tensorsFileName))

        let repository = makeRepository(root)
        repository.scan()
        let good = try repository.snapshot("good")
        #expect(good.version == 1 && good.runtime.fill == 1)
        #expect(repository.status(of: "good")?.versions.map(\.version) == [1])
        let status = try #require(repository.status(of: "bad"))
        guard case let .unavailable(reason) = status.state else { Issue.record("bad model is \(status.state)"); return }
        #expect(reason.contains("labels"), "\(reason)")
        #expect(status.versions.first?.error?.contains("labels") == true)
        #expect(throws: ModelStoreError.self) { try repository.snapshot("bad") }
        #expect(throws: ModelStoreError.modelNotFound("absent")) { try repository.snapshot("absent") }
        #expect(repository.statuses().map(\.name) == ["bad", "good"])
    }

    @Test func versionPolicyChoosesTheServedVersions() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let configs = [
            "default": nil,
            "latest2": #"{"versionPolicy": {"latest": {"numVersions": 2}}}"#,
            "all": #"{"versionPolicy": {"all": {}}, "maxBatchSize": 8}"#,
            "specific": #"{"versionPolicy": {"specific": {"versions": [1, 3, 9]}}}"#,
            "invalid": #"{"versionPolicy": {"latest": {"numVersions": 0}}}"#,
        ]
        for (name, config) in configs {
            for version in 1...3 { try saveVersion(version, of: name, in: root) }
            if let config { try writeConfig(config, for: name, in: root) }
        }
        let repository = makeRepository(root)
        repository.scan()
        #expect(servedVersions(repository, "default") == [3])
        #expect(servedVersions(repository, "latest2") == [3, 2])
        #expect(servedVersions(repository, "all") == [3, 2, 1])
        #expect(servedVersions(repository, "specific") == [3, 1])
        #expect(servedVersions(repository, "invalid") == [])
        #expect(try repository.snapshot("all", version: 1).config.maxBatchSize == 8)
        #expect(try repository.snapshot("specific").version == 3)
        #expect(throws: ModelStoreError.self) { try repository.snapshot("specific", version: 2) }
        #expect(repository.status(of: "invalid")?.error?.contains("versionPolicy.latest.numVersions") == true)
    }

    @Test func readersDuringAHotSwapAlwaysSeeACompleteVersion() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        repository.scan()
        let expectedCount = manifest.expectedTensors.count

        let swapped = Shared(false)
        let failures = Shared<[String]>([])
        let seen = Shared<Set<Int>>([])
        let writer = DispatchGroup()
        DispatchQueue.global().async(group: writer) {
            do {
                try saveVersion(2, of: "m", in: root)
                repository.scan()
            } catch {
                failures.update { $0.append("writer: \(error)") }
            }
            swapped.update { $0 = true }
        }
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            // Bounded: stop shortly after the swap, or after a fixed number of snapshots.
            var afterSwap = 0
            for _ in 0..<1_000_000 where afterSwap < 1000 {
                let swapDone = swapped.get()
                do {
                    let model = try repository.snapshot("m")
                    let ok = model.runtime.fill == Float(model.version) && model.runtime.tensorCount == expectedCount
                        && (!swapDone || model.version == 2)
                    if !ok { failures.update { $0.append("version \(model.version) fill \(model.runtime.fill) after swap: \(swapDone)") } }
                    seen.update { $0.insert(model.version) }
                } catch {
                    failures.update { $0.append("reader: \(error)") }
                }
                if swapDone { afterSwap += 1 }
            }
        }
        writer.wait()
        #expect(failures.get().isEmpty, "\(failures.get().prefix(5))")
        #expect(seen.get().contains(2))
        #expect(try repository.snapshot("m").version == 2)
        #expect(servedVersions(repository, "m") == [2])
    }

    @Test func badNewVersionKeepsThePreviousOneServing() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        repository.scan()
        let inFlight = try repository.snapshot("m")

        try saveVersion(2, of: "m", in: root)
        let file = root.appendingPathComponent("m/2").appendingPathComponent(StoredModel.tensorsFileName)
        try Data(repeating: 0xFF, count: 16).write(to: file)
        repository.scan()
        #expect(try repository.snapshot("m").version == 1)
        let status = try #require(repository.status(of: "m"))
        #expect(status.state == .ready)
        guard case let .unavailable(reason)? = status.versions.first(where: { $0.version == 2 })?.state else {
            Issue.record("version 2 is not unavailable: \(status.versions)"); return
        }
        #expect(reason.contains("header length"), "\(reason)")

        // Fixing the files is noticed on the next scan.
        try SafetensorsFile(tensors: Fixtures.tensors(for: manifest, value: 2)).write(to: file)
        repository.scan()
        #expect(try repository.snapshot("m").version == 2)
        #expect(inFlight.version == 1 && inFlight.runtime.fill == 1)
    }

    @Test func failingRuntimeMakesTheVersionUnavailable() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try StoredModel.save(manifest: manifest, tensors: Fixtures.tensors(for: manifest), into: root.appendingPathComponent("m"))
        let repository = makeRepository(root)
        repository.scan()
        #expect(repository.status(of: "m")?.versions.first?.error?.contains("MixedValues") == true)
        #expect(throws: ModelStoreError.self) { try repository.snapshot("m") }
    }

    @Test func versionChangedInPlaceIsReloaded() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        repository.scan()
        let file = root.appendingPathComponent("m/1").appendingPathComponent(StoredModel.tensorsFileName)
        try SafetensorsFile(tensors: Fixtures.tensors(for: manifest, value: 1), metadata: ["copied": "yes"]).write(to: file)
        try SafetensorsFile(tensors: Fixtures.tensors(for: manifest, value: 5)).write(to: file)
        repository.scan()
        // The fill no longer matches the version: the reload happened.
        #expect(try repository.snapshot("m").runtime.fill == 5)
    }

    @Test func explicitUnloadAndLoad() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        try repository.load("m")
        #expect(try repository.snapshot("m").version == 1)

        try repository.unload("m")
        #expect(repository.status(of: "m")?.state == .unavailable(reason: "unloaded"))
        #expect(throws: ModelStoreError.self) { try repository.snapshot("m") }
        repository.scan()
        #expect(repository.status(of: "m")?.state == .unavailable(reason: "unloaded"))

        try repository.load("m")
        #expect(try repository.snapshot("m").version == 1)
        #expect(throws: ModelStoreError.modelNotFound("nope")) { try repository.load("nope") }
        #expect(throws: ModelStoreError.modelNotFound("nope")) { try repository.unload("nope") }

        try FileManager.default.createDirectory(at: root.appendingPathComponent("empty"), withIntermediateDirectories: true)
        #expect(throws: ModelStoreError.noReadyVersion(model: "empty", reason: "no version directories")) {
            try repository.load("empty")
        }
    }

    @Test func pollingPicksUpANewVersion() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        repository.scan()
        repository.startPolling(interval: 0.02)
        defer { repository.stopPolling() }
        try saveVersion(2, of: "m", in: root)
        // Bounded wait for the timer: at most 500 × 20 ms.
        var version = 1
        for _ in 0..<500 where version != 2 {
            Thread.sleep(forTimeInterval: 0.02)
            version = (try? repository.snapshot("m").version) ?? 0
        }
        #expect(version == 2)
    }

    @Test func removedModelDisappearsFromTheIndex() throws {
        let root = try Fixtures.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        try saveVersion(1, of: "m", in: root)
        let repository = makeRepository(root)
        repository.scan()
        let held = try repository.snapshot("m")
        try FileManager.default.removeItem(at: root.appendingPathComponent("m"))
        repository.scan()
        #expect(repository.statuses().isEmpty)
        #expect(held.runtime.fill == 1)
    }
}
