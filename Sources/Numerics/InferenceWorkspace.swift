/// The scratch one worker of an `InferenceEngine` needs besides the shared activation arena:
/// the unfolded patches of one sample, and one linear layer's input and output vectors.
///
/// Buffers are 64-byte aligned, so a BLAS kernel sees the same alignment for every sample and
/// every worker, and computes the same bits.
final class InferenceWorkspace {
    /// One sample's unfolded patches, [K, P] of the largest convolution.
    let columns: UnsafeMutablePointer<Float>
    /// One sample's input to a linear layer, the widest input.
    let vectorInput: UnsafeMutablePointer<Float>
    /// One sample's output of a linear layer, the widest output.
    let vectorOutput: UnsafeMutablePointer<Float>

    init(columns: Int, vectorInput: Int, vectorOutput: Int) {
        self.columns = Self.allocate(columns)
        self.vectorInput = Self.allocate(vectorInput)
        self.vectorOutput = Self.allocate(vectorOutput)
    }

    deinit {
        columns.deallocate()
        vectorInput.deallocate()
        vectorOutput.deallocate()
    }

    private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
        let count = max(1, count)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.initializeMemory(as: Float.self, repeating: 0, count: count)
    }
}
