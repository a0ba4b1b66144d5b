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

/// 1 when the dense products run AVX-512 tiles (the CPU has AVX-512F and they are allowed), else 0.
int fsk_uses_avx512(void);

/// Allows (1, the default) or forbids (0) the AVX-512 tiles, so that a test can compare them with
/// the AVX2 ones on one CPU: both give the same bits.
void fsk_set_avx512_allowed(int allowed);

/// Floats `fsk_pack` writes for O outputs of K weights each: ⌈O/16⌉·K·16.
long fsk_packed_count(long outputs, long depth);

/// packed [⌈O/16⌉, K, 16] ← weights [O, K] (row-major), zero beyond O.
void fsk_pack(const float *weights, long outputs, long depth, float *packed);

/// rows [Ho·Wo] ← the offset, in floats, of each output position's window in a padded
/// channels-last input [Hp, Wp, C]: position (y, x) reads the window at (y·stride, x·stride).
void fsk_convolution_rows(long paddedWidth, long channels, long stride, long outHeight, long outWidth,
                          long *rows);

/// out [P, O] = relu?(bias + W ∗ input) for one sample in channels-last layout, P = Ho·Wo.
///
/// `padded` is the input [Hp, Wp, C] with its zero border already in place; `rows` [P] are the
/// window offsets from `fsk_convolution_rows`. `packed` holds W [O, (ky, kx, c)] packed by
/// `fsk_pack`; `bias` [O] may be NULL. kernel ≤ 15.
void fsk_convolve(const float *padded, const long *rows, long paddedWidth, long channels, long kernel,
                  long positions, const float *packed, const float *bias, long outputs, int relu, float *out);

/// out[r, o] = relu?(bias[o] + Σ_i x[r, i]·W[o, i]) for rows r < R and output blocks
/// firstBlock ..< endBlock (of 16 outputs each); rows `rowStride` / `outStride` floats apart.
void fsk_dense(const float *x, long rows, long rowStride, long inputs, const float *packed,
               const float *bias, long outputs, int relu, float *out, long outStride,
               long firstBlock, long endBlock);

/// Floats the Winograd F(2×2, 3×3) weights of O outputs over C channels take: 16 packings.
long fsk_winograd_packed_count(long outputs, long channels);

/// packed [16, ⌈O/16⌉, C, 16] ← U_ξ = (G g Gᵀ)_ξ of weights [O, C, 3, 3] (PyTorch's layout).
void fsk_winograd_weights(const float *weights, long outputs, long channels, float *packed);

/// Floats of scratch `fsk_winograd_convolve` needs.
long fsk_winograd_scratch(long channels, long outputs);

/// out = relu?(bias + W ∗ input) for a stride-1 3×3 convolution of one channels-last sample by
/// Winograd F(2×2, 3×3): [Ho, Wo, O], or with `pool` its 2×2/2 max pool [Ho/2, Wo/2, O] (Ho and
/// Wo even). `padded` [Hp, Wp, C] carries the zero border and is large enough for whole tiles:
/// Hp ≥ 2⌈Ho/2⌉ + 2 and Wp ≥ 2⌈Wo/2⌉ + 2. `packed` from `fsk_winograd_weights`; `bias` [O]
/// is required; `scratch` holds `fsk_winograd_scratch(C, O)` floats.
void fsk_winograd_convolve(const float *padded, long paddedWidth, long channels, long outHeight, long outWidth,
                           const float *packed, const float *bias, long outputs, int relu, int pool,
                           float *scratch, float *out);

/// out [Ho, Wo, C] = max over k×k windows (stride s) of x [H, W, C], channels-last. The first
/// element of a window wins ties, and NaN only when it comes first.
void fsk_max_pool(const float *x, long height, long width, long channels, long kernel, long stride,
                  float *out);

#endif
