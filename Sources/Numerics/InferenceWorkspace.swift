/// The scratch one worker of an `InferenceEngine` needs besides the shared activation arena:
/// a convolution's zero-padded input and Winograd transforms.
final class InferenceWorkspace {
    /// The largest `FoldedConvolution.scratchSize` of the engine.
    let scratch: UnsafeMutablePointer<Float>

    init(scratch count: Int) {
        let count = max(1, count)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        scratch = raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }

    deinit {
        scratch.deallocate()
    }
}
