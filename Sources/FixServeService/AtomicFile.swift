import Foundation

/// Writes a file so that readers see the old content or the new, never a part: temporary file
/// in the same directory, fsync, rename, fsync of the directory.
enum AtomicFile {
    /// Why a file could not be written: the step that failed and the system's reason (a full
    /// disk says "No space left on device").
    struct Failure: Error, CustomStringConvertible {
        var path: String
        var step: String
        var reason: String
        var description: String { "cannot write \(path): \(step) failed: \(reason)" }
    }

    /// - Throws: `Failure`, naming the step (creating the directory, writing, fsync, rename).
    static func write(_ data: Data, to url: URL) throws {
        let directory = url.deletingLastPathComponent()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw Failure(path: url.path, step: "creating \(directory.path)", reason: error.localizedDescription)
        }
        let temporary = directory.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        guard fd >= 0 else { throw Failure(path: url.path, step: "creating \(temporary.lastPathComponent)", reason: Self.reason(errno)) }
        var failure: Failure?
        data.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Foundation.write(fd, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 {
                    // write(2) returns 0 only for a zero-length request; treat it as an I/O error.
                    failure = Failure(path: url.path, step: "write", reason: Self.reason(n < 0 ? errno : EIO))
                    return
                }
                offset += n
            }
        }
        if failure == nil, fsync(fd) != 0 {
            failure = Failure(path: url.path, step: "fsync", reason: Self.reason(errno))
        }
        close(fd)
        if failure == nil, rename(temporary.path, url.path) != 0 {
            failure = Failure(path: url.path, step: "rename", reason: Self.reason(errno))
        }
        if let failure {
            unlink(temporary.path)
            throw failure
        }
        let dirfd = open(directory.path, O_RDONLY)
        if dirfd >= 0 { fsync(dirfd); close(dirfd) }
    }

    private static func reason(_ code: Int32) -> String {
        "\(String(cString: strerror(code))) (errno \(code))"
    }
}
