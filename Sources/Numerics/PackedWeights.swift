import LinearAlgebra

/// Weights W [O, K] and bias [O] packed once for `PackedKernels`, in 64-byte aligned memory that
/// every worker of an engine reads and none writes.
final class PackedWeights: @unchecked Sendable {
    /// O
    let outputs: Int
    /// K, the weights per output.
    let depth: Int
    /// [⌈O/16⌉, K, 16]
    let packed: UnsafeMutablePointer<Float>
    /// [O]
    let bias: UnsafeMutablePointer<Float>

    /// Packs `weights` [O, K] (row-major) and `bias` [O].
    init(weights: [Float], bias: [Float], outputs: Int, depth: Int) {
        precondition(weights.count == outputs * depth && bias.count == outputs, "packed weights of the wrong size")
        self.outputs = outputs
        self.depth = depth
        let count = PackedKernels.packedCount(outputs: outputs, depth: depth)
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
        weights.withUnsafeBufferPointer { PackedKernels.pack($0.baseAddress!, outputs: outputs, depth: depth, into: packed) }
        self.packed = packed
        self.bias = .allocate(capacity: max(1, outputs))
        self.bias.initialize(from: bias, count: outputs)
    }

    deinit {
        packed.deallocate()
        bias.deallocate()
    }

    /// Blocks of 16 outputs.
    var blocks: Int { PackedKernels.blocks(outputs: outputs) }
}
