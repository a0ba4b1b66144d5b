import Dispatch
import Foundation
import Synchronization

/// A directory of models, `root/<name>/<version>/`, scanned, validated, loaded and kept current.
///
/// Layout (Triton-style): each model is a directory holding positive-integer version directories
/// and an optional `config.json` (`ModelConfig`). Anything else, including the `.tmp-…`
/// directories of saves in progress, is ignored. Each model and version loads on its own: one
/// bad model or version never stops another from serving, and its error shows in `status`.
///
/// Hot reload: `scan()` (called by `startPolling(interval:)`'s timer, or directly) notices new or
/// changed versions and configurations, loads them off the readers' path and swaps the served
/// set in one step. Readers take a `LoadedModel` snapshot (`snapshot(_:version:)`) and keep it
/// for the whole request, so requests in flight finish on the version they started with. A
/// version that fails to load leaves what was serving in place, with the error in its status;
/// a version whose files fail is not retried until they change (or `load(_:)` is called).
///
/// Thread safety: all methods may be called from any thread. Two locks: `scanLock` serialises
/// scans, loads and unloads (only one runs at a time, and it may take long); `stateLock` guards
/// the published state and is held only to copy or swap it, so readers never wait for a load.
/// `makeRuntime` runs with `scanLock` held: it must not call `scan`, `load` or `unload`.
public final class ModelRepository<Runtime>: @unchecked Sendable {
    /// The repository directory.
    public let root: URL
    private let makeRuntime: (StoredModel) throws -> Runtime
    private let scanLock = NSLock()
    private let stateLock = NSLock()
    private var records: [String: ModelRecord<Runtime>] = [:] {
        didSet { changes.add(1, ordering: .releasing) }
    }
    /// Counts changes to `records`; read without the lock, by every metadata request.
    private let changes = Atomic<UInt64>(0)
    private var timer: DispatchSourceTimer?
    private let pollQueue = DispatchQueue(label: "fixserve.model-repository.poll", qos: .utility)

    /// A repository over `root`; nothing is read until `scan()` or `load(_:)`.
    /// - Parameter makeRuntime: builds the runnable object of a validated stored model (e.g. a
    ///   Network from its manifest and tensors); an error it throws makes that version unavailable.
    public init(root: URL, makeRuntime: @escaping (StoredModel) throws -> Runtime) {
        self.root = root
        self.makeRuntime = makeRuntime
    }

    deinit { timer?.cancel() }

    // MARK: Readers

    /// Grows with every change to what the repository publishes (a version loading, served or
    /// gone): whoever caches what it derived from `status` or `snapshot` knows when to redo it.
    public var generation: UInt64 { changes.load(ordering: .acquiring) }

    /// The served version `version` of model `name`, or its highest served version when nil.
    /// Keep the returned snapshot for the whole request.
    /// - Throws: `ModelStoreError.modelNotFound`, or `.noReadyVersion` with the reason.
    public func snapshot(_ name: String, version: Int? = nil) throws -> LoadedModel<Runtime> {
        stateLock.lock()
        defer { stateLock.unlock() }
        // Only the served table is read on success: copying the whole record costs more than the lookup.
        guard let served = records[name]?.served else { throw ModelStoreError.modelNotFound(name) }
        if let version {
            if let model = served[version] { return model }
            let reason = records[name]!.versions[version].map { Self.reason($0.state) } ?? "no version \(version) on disk"
            throw ModelStoreError.noReadyVersion(model: name, reason: "version \(version): \(reason)")
        }
        guard let newest = served.max(by: { $0.key < $1.key }) else {
            throw ModelStoreError.noReadyVersion(model: name, reason: Self.reason(records[name]!.status(name: name).state))
        }
        return newest.value
    }

    /// The status of model `name`, nil when the repository has never seen it.
    public func status(of name: String) -> ModelStatus? {
        stateLock.lock()
        defer { stateLock.unlock() }
        return records[name]?.status(name: name)
    }

    /// The status of every model, sorted by name (the repository index).
    public func statuses() -> [ModelStatus] {
        stateLock.lock()
        defer { stateLock.unlock() }
        return records.keys.sorted().map { records[$0]!.status(name: $0) }
    }

    /// Every served version of every model, by name then version: for metrics and statistics.
    public func servedModels() -> [LoadedModel<Runtime>] {
        stateLock.lock()
        defer { stateLock.unlock() }
        return records.keys.sorted().flatMap { name in
            records[name]!.served.keys.sorted().map { records[name]!.served[$0]! }
        }
    }

    // MARK: Loading

    /// Scans the whole repository: loads new and changed versions and configurations, drops
    /// models and versions that left the disk. Explicitly unloaded models stay unloaded.
    public func scan() {
        scanLock.lock()
        defer { scanLock.unlock() }
        let names = Set(modelDirectoryNames())
        for name in names.sorted() { scanModel(name, explicit: false) }
        stateLock.lock()
        for name in records.keys where !names.contains(name) { records[name] = nil }
        stateLock.unlock()
    }

    /// Loads model `name` (again, if it was unloaded), retrying versions that failed before.
    /// Returns once the scan of this model is done.
    /// - Throws: `ModelStoreError.modelNotFound` when there is no such directory,
    ///   `.noReadyVersion` with the reason when no version could be served.
    public func load(_ name: String) throws {
        scanLock.lock()
        defer { scanLock.unlock() }
        guard modelDirectoryNames().contains(name) else { throw ModelStoreError.modelNotFound(name) }
        scanModel(name, explicit: true)
        if let status = status(of: name), status.state != .ready {
            throw ModelStoreError.noReadyVersion(model: name, reason: Self.reason(status.state))
        }
    }

    /// Stops serving model `name` until `load(_:)`; polling leaves it alone meanwhile.
    /// - Throws: `ModelStoreError.modelNotFound` when the repository does not know the model.
    public func unload(_ name: String) throws {
        scanLock.lock()
        defer { scanLock.unlock() }
        stateLock.lock()
        defer { stateLock.unlock() }
        if records[name] == nil {
            guard modelDirectoryNames().contains(name) else { throw ModelStoreError.modelNotFound(name) }
            records[name] = ModelRecord()
        }
        records[name]!.unload()
    }

    /// Calls `scan()` every `interval` seconds on a background queue until `stopPolling()`.
    /// Calling it again replaces the previous timer.
    public func startPolling(interval: TimeInterval) {
        let timer = DispatchSource.makeTimerSource(queue: pollQueue)
        let nanoseconds = Int(max(interval, 0.001) * 1e9)
        timer.schedule(
            deadline: .now() + .nanoseconds(nanoseconds), repeating: .nanoseconds(nanoseconds),
            leeway: .nanoseconds(nanoseconds / 10))
        timer.setEventHandler { [weak self] in self?.scan() }
        stateLock.lock()
        let previous = self.timer
        self.timer = timer
        stateLock.unlock()
        previous?.cancel()
        timer.resume()
    }

    /// Stops the polling timer, if any; a scan already running finishes.
    public func stopPolling() {
        stateLock.lock()
        let previous = timer
        timer = nil
        stateLock.unlock()
        previous?.cancel()
    }

    // MARK: Scanning one model (scanLock held)

    private func scanModel(_ name: String, explicit: Bool) {
        let directory = root.appendingPathComponent(name)
        stateLock.lock()
        var record = records[name] ?? ModelRecord()
        stateLock.unlock()
        if record.unloaded && !explicit { return }
        record.unloaded = false

        let configFingerprint = Self.fingerprint(directory.appendingPathComponent(ModelConfig.fileName))
        if explicit || record.config == nil || configFingerprint != record.configFingerprint {
            record.configFingerprint = configFingerprint
            do {
                record.config = try ModelConfig.load(fromModelDirectory: directory)
                record.error = nil
            } catch {
                // A bad edit to config.json keeps the previous configuration in force.
                record.error = "\(error)"
            }
        }
        let onDisk: [Int: String]
        do {
            onDisk = try Dictionary(uniqueKeysWithValues: StoredModel.existingVersions(in: directory).map {
                ($0, Self.versionFingerprint(directory.appendingPathComponent(String($0))))
            })
        } catch {
            record.error = "\(error)"
            publish(record, name)
            return
        }
        guard let config = record.config else {
            record.served = [:]
            record.versions = onDisk.mapValues { _ in VersionRecord(state: .unavailable(reason: "no valid config.json")) }
            publish(record, name)
            return
        }

        let (candidates, limit) = config.versionPolicy.candidates(from: Array(onDisk.keys))
        var served: [Int: LoadedModel<Runtime>] = [:]
        var versions: [Int: VersionRecord] = [:]
        for version in candidates where served.count < limit {
            let fingerprint = onDisk[version]!
            let previous = record.versions[version]
            let current = record.served[version]
            let unchanged = previous?.fingerprint == fingerprint
            if unchanged, let current, previous?.error == nil || !explicit {
                served[version] = current.config == config ? current : current.with(config)
                versions[version] = VersionRecord(state: .ready, error: previous?.error, fingerprint: fingerprint)
                continue
            }
            if unchanged, current == nil, let previous, previous.error != nil, !explicit {
                versions[version] = previous
                continue
            }
            record.versions[version] = VersionRecord(state: .loading, error: previous?.error, fingerprint: previous?.fingerprint)
            publish(record, name)
            do {
                served[version] = try loadVersion(name, version, directory, config)
                versions[version] = VersionRecord(state: .ready, fingerprint: fingerprint)
            } catch {
                let message = "\(error)"
                if let current {
                    served[version] = current
                    versions[version] = VersionRecord(state: .ready, error: message, fingerprint: fingerprint)
                } else {
                    versions[version] = VersionRecord(state: .unavailable(reason: message), error: message, fingerprint: fingerprint)
                }
            }
        }
        for version in onDisk.keys where versions[version] == nil {
            let previous = record.versions[version]
            let failed = previous?.error != nil && previous?.state != .ready
            versions[version] = failed
                ? previous!
                : VersionRecord(state: .unavailable(reason: "not selected by the version policy"))
        }
        record.served = served
        record.versions = versions
        publish(record, name)
    }

    private func loadVersion(_ name: String, _ version: Int, _ directory: URL, _ config: ModelConfig) throws -> LoadedModel<Runtime> {
        let stored = try StoredModel.load(from: directory.appendingPathComponent(String(version)))
        let runtime = try makeRuntime(stored)
        return LoadedModel(
            name: name, version: version, manifest: stored.manifest, location: stored.location, config: config, runtime: runtime)
    }

    private func publish(_ record: ModelRecord<Runtime>, _ name: String) {
        stateLock.lock()
        records[name] = record
        stateLock.unlock()
    }

    private func modelDirectoryNames() -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        return names.filter { name in
            var isDirectory: ObjCBool = false
            return !name.hasPrefix(".")
                && FileManager.default.fileExists(atPath: root.appendingPathComponent(name).path, isDirectory: &isDirectory)
                && isDirectory.boolValue
        }
    }

    // Size, modification time and inode: a rewrite, a copy or a rename all change one of them.
    private static func fingerprint(_ url: URL) -> String {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path) else { return "absent" }
        let size = (attributes[.size] as? NSNumber)?.int64Value ?? -1
        let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
        let inode = (attributes[.systemFileNumber] as? NSNumber)?.uint64Value ?? 0
        return "\(size):\(modified):\(inode)"
    }

    private static func versionFingerprint(_ directory: URL) -> String {
        [directory, directory.appendingPathComponent(StoredModel.manifestFileName),
         directory.appendingPathComponent(StoredModel.tensorsFileName)].map(fingerprint).joined(separator: "|")
    }

    private static func reason(_ state: ModelState) -> String {
        switch state {
        case .loading: return "loading"
        case .ready: return "ready"
        case let .unavailable(reason): return reason
        }
    }
}
