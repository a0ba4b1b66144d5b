/// What one worker of an `InferenceEngine` keeps besides the batch buffers: one sample's
/// activations inside a per-sample run (two alternating buffers, and two more for a residual
/// block's intermediate and shortcut), and a convolution's zero-padded input and Winograd
/// transforms. Reused from sample to sample, so they stay in the worker's cache.
final class InferenceWorkspace {
    /// Alternating step outputs, the largest activation each.
    let first: UnsafeMutablePointer<Float>
    let second: UnsafeMutablePointer<Float>
    /// A residual block's intermediate and projected shortcut (one element when there is none).
    let scratch1: UnsafeMutablePointer<Float>
    let scratch2: UnsafeMutablePointer<Float>
    /// The largest `FoldedConvolution.scratchSize` of the engine.
    let scratch: UnsafeMutablePointer<Float>

    init(activations: Int, residual: Bool, scratch: Int) {
        first = Self.allocate(activations)
        second = Self.allocate(activations)
        scratch1 = Self.allocate(residual ? activations : 1)
        scratch2 = Self.allocate(residual ? activations : 1)
        self.scratch = Self.allocate(scratch)
    }

    deinit {
        for buffer in [first, second, scratch1, scratch2, scratch] { buffer.deallocate() }
    }

    /// 64-byte aligned, zeroed.
    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let count = max(1, count)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }
}
