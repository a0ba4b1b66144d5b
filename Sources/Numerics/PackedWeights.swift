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
    convenience init(weights: [Float], bias: [Float], outputs: Int, depth: Int) {
        precondition(weights.count == outputs * depth, "packed weights of the wrong size")
        self.init(bias: bias, outputs: outputs, depth: depth,
                  count: PackedKernels.packedCount(outputs: outputs, depth: depth)) { packed in
            weights.withUnsafeBufferPointer { PackedKernels.pack($0.baseAddress!, outputs: outputs, depth: depth, into: packed) }
        }
    }

    /// Packs the Winograd F(2×2, 3×3) transforms of `weights` [O, C, 3, 3] and `bias` [O].
    convenience init(winograd weights: [Float], bias: [Float], outputs: Int, channels: Int) {
        precondition(weights.count == outputs * channels * 9, "packed weights of the wrong size")
        self.init(bias: bias, outputs: outputs, depth: channels,
                  count: PackedKernels.winogradPackedCount(outputs: outputs, channels: channels)) { packed in
            weights.withUnsafeBufferPointer {
                PackedKernels.packWinograd($0.baseAddress!, outputs: outputs, channels: channels, into: packed)
            }
        }
    }

    private init(bias: [Float], outputs: Int, depth: Int, count: Int, pack: (UnsafeMutablePointer<Float>) -> Void) {
        precondition(bias.count == outputs, "a bias of the wrong size")
        self.outputs = outputs
        self.depth = depth
        let packed = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
            .bindMemory(to: Float.self, capacity: max(1, count))
        pack(packed)
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
