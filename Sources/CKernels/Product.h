#ifndef FIXSERVE_CKERNELS_PRODUCT_H
#define FIXSERVE_CKERNELS_PRODUCT_H

/// out[r, o] = Σ_k a[rows[r] + k]·W[o, k] for r < count, every block of `packed` (no bias, no
/// ReLU): the plain product the Winograd convolution runs sixteen times per chunk of tiles.
void fsk_pack_product(const float *a, const long *rows, long count, long depth, const float *packed,
                      long outputs, float *out, long outStride);

#endif
