import CKernels

/// FixServe's own products of activations with packed weights (the `CKernels` target): AVX2/FMA
/// where the CPU has it, portable C elsewhere. They serve the layer shapes where OpenBLAS is
/// slow: a convolution read straight from channels-last activations (no unfolded patches), and a
/// dense layer over a batch whose weights are read once per six rows.
///
/// Letters: R rows, K weights per output, O outputs. Weights [O, K] are packed once into blocks
/// of 16 outputs, [⌈O/16⌉, K, 16]. Each output is accumulated in a fixed order (bias, then K in
/// order), so a row's result is the same whatever the other rows of a call.
public enum PackedKernels {
    /// Outputs per packed block.
    public static let blockWidth = Int(FSK_BLOCK)

    /// Whether the AVX2/FMA kernels run on this CPU.
    public static var usesAVX2: Bool { fsk_uses_avx2() != 0 }

    /// Floats a packing of `outputs` × `depth` weights takes.
    @inlinable
    public static func packedCount(outputs: Int, depth: Int) -> Int { fsk_packed_count(outputs, depth) }

    /// Number of blocks of 16 outputs.
    @inlinable
    public static func blocks(outputs: Int) -> Int { (outputs + blockWidth - 1) / blockWidth }

    /// packed [⌈O/16⌉, K, 16] ← weights [O, K], zero beyond O.
    @inlinable
    public static func pack(_ weights: UnsafePointer<Float>, outputs: Int, depth: Int, into packed: UnsafeMutablePointer<Float>) {
        fsk_pack(weights, outputs, depth, packed)
    }

    /// output [Ho, Wo, O] = relu?(bias + W ∗ padded) for one channels-last sample.
    ///
    /// `padded` [Hp, Wp, C] carries its zero border; W [O, (ky, kx, c)] is packed; kernel ≤ 15.
    @inlinable
    public static func convolve(
        padded: UnsafePointer<Float>, paddedWidth: Int, channels: Int, kernel: Int, stride: Int,
        outHeight: Int, outWidth: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        outputs: Int, relu: Bool, into output: UnsafeMutablePointer<Float>
    ) {
        fsk_convolve(padded, paddedWidth, channels, kernel, stride, outHeight, outWidth, weights, bias,
                     outputs, relu ? 1 : 0, output)
    }

    /// out[r, o] = relu?(bias[o] + Σ_i x[r, i]·W[o, i]) for `rows` rows and the output blocks
    /// `blocks` (16 outputs each); rows `rowStride` and `outStride` floats apart.
    @inlinable
    public static func dense(
        _ x: UnsafePointer<Float>, rows: Int, rowStride: Int, inputs: Int, weights: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outputs: Int, relu: Bool, into out: UnsafeMutablePointer<Float>,
        outStride: Int, blocks: Range<Int>
    ) {
        fsk_dense(x, rows, rowStride, inputs, weights, bias, outputs, relu ? 1 : 0, out, outStride,
                  blocks.lowerBound, blocks.upperBound)
    }
}
