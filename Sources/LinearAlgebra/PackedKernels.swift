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

    /// The offset, in floats, of each output position's window in a padded channels-last input
    /// [Hp, Wp, C]: what `convolve` takes as `rows`.
    public static func convolutionRows(paddedWidth: Int, channels: Int, stride: Int, outHeight: Int, outWidth: Int) -> [Int] {
        var rows = [Int](repeating: 0, count: outHeight * outWidth)
        rows.withUnsafeMutableBufferPointer {
            fsk_convolution_rows(paddedWidth, channels, stride, outHeight, outWidth, $0.baseAddress!)
        }
        return rows
    }

    /// output [P, O] = relu?(bias + W ∗ padded) for one channels-last sample.
    ///
    /// `padded` [Hp, Wp, C] carries its zero border; `rows` [P] come from `convolutionRows`;
    /// W [O, (ky, kx, c)] is packed; kernel ≤ 15.
    @inlinable
    public static func convolve(
        padded: UnsafePointer<Float>, rows: UnsafePointer<Int>, positions: Int, paddedWidth: Int, channels: Int,
        kernel: Int, weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: Int, relu: Bool,
        into output: UnsafeMutablePointer<Float>
    ) {
        fsk_convolve(padded, rows, paddedWidth, channels, kernel, positions, weights, bias, outputs, relu ? 1 : 0, output)
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

    /// out [Ho, Wo, C] = max over k×k windows of x [H, W, C] (channels-last), stride `stride`;
    /// the first element of a window wins ties, and NaN only when it comes first.
    @inlinable
    public static func maxPool(_ x: UnsafePointer<Float>, height: Int, width: Int, channels: Int, kernel: Int,
                               stride: Int, into out: UnsafeMutablePointer<Float>) {
        fsk_max_pool(x, height, width, channels, kernel, stride, out)
    }

    /// Floats the Winograd F(2×2, 3×3) weights of `outputs` × `channels` take.
    @inlinable
    public static func winogradPackedCount(outputs: Int, channels: Int) -> Int {
        fsk_winograd_packed_count(outputs, channels)
    }

    /// packed ← the sixteen transformed matrices U_ξ = (G g Gᵀ)_ξ of weights [O, C, 3, 3], packed.
    @inlinable
    public static func packWinograd(_ weights: UnsafePointer<Float>, outputs: Int, channels: Int,
                                    into packed: UnsafeMutablePointer<Float>) {
        fsk_winograd_weights(weights, outputs, channels, packed)
    }

    /// Floats of scratch one `winogradConvolve` call needs.
    @inlinable
    public static func winogradScratch(channels: Int, outputs: Int) -> Int { fsk_winograd_scratch(channels, outputs) }

    /// output = relu?(bias + W ∗ padded) of a stride-1 3×3 convolution by Winograd F(2×2, 3×3):
    /// [Ho, Wo, O], or with `pool` its 2×2/2 max pool [Ho/2, Wo/2, O] (Ho, Wo even).
    ///
    /// `padded` [Hp, Wp, C] carries the zero border, with Hp ≥ 2⌈Ho/2⌉ + 2 and Wp ≥ 2⌈Wo/2⌉ + 2.
    @inlinable
    public static func winogradConvolve(
        padded: UnsafePointer<Float>, paddedWidth: Int, channels: Int, outHeight: Int, outWidth: Int,
        weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, outputs: Int, relu: Bool, pool: Bool,
        scratch: UnsafeMutablePointer<Float>, into output: UnsafeMutablePointer<Float>
    ) {
        fsk_winograd_convolve(padded, paddedWidth, channels, outHeight, outWidth, weights, bias, outputs,
                              relu ? 1 : 0, pool ? 1 : 0, scratch, output)
    }
}
