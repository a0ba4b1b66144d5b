/// The scratch one worker of an `InferenceEngine` needs besides the shared activation arena:
/// the zero-padded input of the largest padded convolution.
final class InferenceWorkspace {
    /// One sample's padded input, [Hp, Wp, C] of the largest padded convolution.
    let padded: UnsafeMutablePointer<Float>

    init(padded count: Int) {
        let count = max(1, count)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        padded = raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }

    deinit {
        padded.deallocate()
    }
}
