import CJemalloc

/// The process's memory allocator: jemalloc, linked into the executables that serve and into
/// `fixserve-bench`, which times their work.
///
/// A served request allocates a few dozen small blocks (its headers, closures, the answer's
/// JSON) on one event loop and often frees them on another. jemalloc's per-thread caches make
/// those allocations cheaper than glibc's, and it is the allocator nghttpd links, the peer the
/// server's figures are compared with (docs/BENCHMARKS.md). Linking this module is what installs
/// it: the executable then names libjemalloc before libc, so its `malloc` and `free` serve every
/// library in the process, the Swift runtime included.
public enum ProcessAllocator {
    /// What the allocator holds, in bytes.
    public struct Statistics: Sendable, Equatable {
        /// Bytes handed out to the program and not yet freed.
        public var allocatedBytes: Int
        /// Bytes of physical memory the allocator's pages occupy (what it could return to the system is included).
        public var residentBytes: Int
    }

    /// jemalloc's version, such as "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c".
    public static var version: String {
        var pointer: UnsafePointer<CChar>?
        var size = MemoryLayout<UnsafePointer<CChar>?>.size
        guard mallctl("version", &pointer, &size, nil, 0) == 0, let pointer else { return "unknown" }
        return String(cString: pointer)
    }

    /// The allocator's current totals; nil if this jemalloc keeps no statistics, or when another
    /// allocator serves the process (a sanitizer's, whose own `malloc` comes first).
    public static func statistics() -> Statistics? {
        // Totals are snapshots, refreshed by advancing the epoch.
        var epoch: UInt64 = 1
        guard mallctl("epoch", nil, nil, &epoch, MemoryLayout<UInt64>.size) == 0 else { return nil }
        guard let allocated = readSize("stats.allocated"), let resident = readSize("stats.resident"), resident > 0 else {
            return nil
        }
        return Statistics(allocatedBytes: allocated, residentBytes: resident)
    }

    private static func readSize(_ name: String) -> Int? {
        var value = 0
        var size = MemoryLayout<Int>.size
        return mallctl(name, &value, &size, nil, 0) == 0 ? value : nil
    }
}
