/// A growable block of floats one worker of a training layer owns: its unfolded patches, their
/// products and its share of a weight gradient. Kept from step to step, so a step allocates
/// nothing; each worker touches only its own buffer.
final class ScratchBuffer {
    private(set) var pointer: UnsafeMutablePointer<Float>
    private var capacity: Int

    init() {
        capacity = 1
        pointer = Self.allocate(1)
    }

    deinit { pointer.deallocate() }

    /// At least `count` floats; the contents are stale after growing or not.
    func reserve(_ count: Int) -> UnsafeMutablePointer<Float> {
        if count > capacity {
            pointer.deallocate()
            capacity = count
            pointer = Self.allocate(count)
        }
        return pointer
    }

    /// 64-byte aligned, so the products' vectors do not straddle cache lines.
    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
    }
}
