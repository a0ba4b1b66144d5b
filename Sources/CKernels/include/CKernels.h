#ifndef FIXSERVE_CKERNELS_H
#define FIXSERVE_CKERNELS_H

/// FixServe's own CPU kernels for the inference engine: products of activations with weights
/// packed in blocks of 16 output columns, written with AVX2/FMA intrinsics and chosen at run time
/// (a portable C path runs where the CPU lacks them).
///
/// Dimension letters: R rows (output positions of a convolution, samples of a dense layer),
/// T taps (kernel positions, 1 for a dense layer), D depth per tap (input channels, or a dense
/// layer's inputs), K = T·D, O outputs. Every output is accumulated in the same order (its bias,
/// then tap by tap, then depth) whatever R and wherever its row falls in a tile, so a row's
/// result never depends on the other rows of the call.

/// Output columns per packed weight block.
#define FSK_BLOCK 16

/// 1 when the AVX2/FMA kernels run on this CPU, 0 when the portable ones do.
int fsk_uses_avx2(void);

/// Floats `fsk_pack` writes for O outputs of K weights each: ⌈O/16⌉·K·16.
long fsk_packed_count(long outputs, long depth);

/// packed [⌈O/16⌉, K, 16] ← weights [O, K] (row-major), zero beyond O.
void fsk_pack(const float *weights, long outputs, long depth, float *packed);

/// out [Ho, Wo, O] = relu?(bias + W ∗ input) for one sample in channels-last layout.
///
/// `padded` is the input [Hp, Wp, C] with its zero border already in place; output position
/// (y, x) reads the k×k window at (y·stride, x·stride). `packed` holds W [O, (ky, kx, c)] packed
/// by `fsk_pack`; `bias` [O] may be NULL. kernel ≤ 15.
void fsk_convolve(const float *padded, long paddedWidth, long channels, long kernel, long stride,
                  long outHeight, long outWidth, const float *packed, const float *bias, long outputs,
                  int relu, float *out);

/// out[r, o] = relu?(bias[o] + Σ_i x[r, i]·W[o, i]) for rows r < R and output blocks
/// firstBlock ..< endBlock (of 16 outputs each); rows `rowStride` / `outStride` floats apart.
void fsk_dense(const float *x, long rows, long rowStride, long inputs, const float *packed,
               const float *bias, long outputs, int relu, float *out, long outStride,
               long firstBlock, long endBlock);

#endif
