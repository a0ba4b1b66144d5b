#include "CKernels.h"
#include "Product.h"

#include <stdlib.h>

/// Winograd F(2×2, 3×3) for stride-1 3×3 convolutions (Lavin and Gray, 2016): each 2×2 block of
/// outputs comes from a 4×4 block of input through V = Bᵀ d B, sixteen products M_ξ = V_ξ · U_ξ
/// over the channels (U = G g Gᵀ, transformed once), and Y = Aᵀ M A: 16 multiplies per output
/// pair of channels instead of 36. The transforms are additions only; the products are the
/// packed-weight products of PackedProduct.c, sixteen per chunk of tiles.

/// Tiles transformed and multiplied together: their V and M stay in L2 with the weights.
#define FSK_WINOGRAD_CHUNK 24

long fsk_winograd_packed_count(long outputs, long channels) {
    return 16 * fsk_packed_count(outputs, channels);
}

void fsk_winograd_weights(const float *weights, long outputs, long channels, float *packed) {
    // U_ξ = (G g Gᵀ)_ξ with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], summed in double so that each
    // element rounds once; each U_ξ [O, C] is then packed like any weight matrix.
    static const double G[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    const long count = fsk_packed_count(outputs, channels);
    float *matrix = malloc((size_t)(outputs * channels) * sizeof(float));
    if (!matrix) return;
    for (int xi = 0; xi < 16; xi++) {
        const int i = xi / 4, j = xi % 4;
        for (long o = 0; o < outputs; o++) {
            for (long c = 0; c < channels; c++) {
                const float *g = weights + (o * channels + c) * 9;
                double sum = 0;
                for (int a = 0; a < 3; a++)
                    for (int b = 0; b < 3; b++) sum += G[i][a] * g[a * 3 + b] * G[j][b];
                matrix[o * channels + c] = (float)sum;
            }
        }
        fsk_pack(matrix, outputs, channels, packed + xi * count);
    }
    free(matrix);
}

long fsk_winograd_scratch(long channels, long outputs) {
    return 16 * FSK_WINOGRAD_CHUNK * (channels + outputs);
}
/// V [16, n, C] ← Bᵀ d B for tiles first ..< first + n, channels c0 ..< C;
/// Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1].
static void input_transform(const float *padded, long paddedWidth, long channels, long tilesWide, long first,
                            long n, long c0, float *v) {
    const long plane = n * channels, row = paddedWidth * channels;
    for (long t = 0; t < n; t++) {
        const long ty = (first + t) / tilesWide, tx = (first + t) % tilesWide;
        const float *d = padded + (2 * ty * paddedWidth + 2 * tx) * channels;
        float *out = v + t * channels;
        for (long c = c0; c < channels; c++) {
            float e[4][4];
            for (int j = 0; j < 4; j++) {
                const float a0 = d[j * channels + c], a1 = d[row + j * channels + c],
                            a2 = d[2 * row + j * channels + c], a3 = d[3 * row + j * channels + c];
                e[0][j] = a0 - a2;
                e[1][j] = a1 + a2;
                e[2][j] = a2 - a1;
                e[3][j] = a1 - a3;
            }
            for (int i = 0; i < 4; i++) {
                out[(i * 4 + 0) * plane + c] = e[i][0] - e[i][2];
                out[(i * 4 + 1) * plane + c] = e[i][1] + e[i][2];
                out[(i * 4 + 2) * plane + c] = e[i][2] - e[i][1];
                out[(i * 4 + 3) * plane + c] = e[i][1] - e[i][3];
            }
        }
    }
}

/// Y = Aᵀ M A + bias, relu?, for tiles first ..< first + n, outputs o0 ..< O; Aᵀ = [1 1 1 0;
/// 0 1 −1 −1]. With `pool` the 2×2 block's maximum is written instead of the block (a
/// following 2×2/2 max pool; the first element wins ties, as in a pooling step).
static void output_transform(const float *m, long outputs, long tilesWide, long first, long n, long o0,
                             const float *bias, int relu, int pool, long outHeight, long outWidth, float *out) {
    const long plane = n * outputs;
    for (long t = 0; t < n; t++) {
        const long ty = (first + t) / tilesWide, tx = (first + t) % tilesWide;
        const float *mt = m + t * outputs;
        for (long o = o0; o < outputs; o++) {
            float s[4][2];
            for (int i = 0; i < 4; i++) {
                const float a0 = mt[(i * 4 + 0) * plane + o], a1 = mt[(i * 4 + 1) * plane + o],
                            a2 = mt[(i * 4 + 2) * plane + o], a3 = mt[(i * 4 + 3) * plane + o];
                s[i][0] = a0 + a1 + a2;
                s[i][1] = a1 - a2 - a3;
            }
            float y[2][2];
            for (int j = 0; j < 2; j++) {
                y[0][j] = s[0][j] + s[1][j] + s[2][j] + bias[o];
                y[1][j] = s[1][j] - s[2][j] - s[3][j] + bias[o];
            }
            if (relu) {
                for (int i = 0; i < 2; i++)
                    for (int j = 0; j < 2; j++) y[i][j] = y[i][j] > 0 ? y[i][j] : 0;
            }
            if (pool) {
                float best = y[0][0];
                if (y[0][1] > best) best = y[0][1];
                if (y[1][0] > best) best = y[1][0];
                if (y[1][1] > best) best = y[1][1];
                out[(ty * (outWidth / 2) + tx) * outputs + o] = best;
                continue;
            }
            for (int i = 0; i < 2; i++) {
                const long oy = 2 * ty + i;
                if (oy >= outHeight) continue;
                for (int j = 0; j < 2; j++) {
                    const long ox = 2 * tx + j;
                    if (ox < outWidth) out[(oy * outWidth + ox) * outputs + o] = y[i][j];
                }
            }
        }
    }
}

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// `input_transform` for eight channels at a time; the remaining channels go the scalar way.
__attribute__((target("avx2,fma")))
static void input_transform_avx2(const float *padded, long paddedWidth, long channels, long tilesWide,
                                 long first, long n, float *v) {
    const long plane = n * channels, row = paddedWidth * channels, vectorEnd = channels / 8 * 8;
    for (long t = 0; t < n; t++) {
        const long ty = (first + t) / tilesWide, tx = (first + t) % tilesWide;
        const float *d = padded + (2 * ty * paddedWidth + 2 * tx) * channels;
        float *out = v + t * channels;
        for (long c = 0; c < vectorEnd; c += 8) {
            __m256 e[4][4];
            for (int j = 0; j < 4; j++) {
                const __m256 a0 = _mm256_loadu_ps(d + j * channels + c), a1 = _mm256_loadu_ps(d + row + j * channels + c),
                             a2 = _mm256_loadu_ps(d + 2 * row + j * channels + c),
                             a3 = _mm256_loadu_ps(d + 3 * row + j * channels + c);
                e[0][j] = _mm256_sub_ps(a0, a2);
                e[1][j] = _mm256_add_ps(a1, a2);
                e[2][j] = _mm256_sub_ps(a2, a1);
                e[3][j] = _mm256_sub_ps(a1, a3);
            }
            for (int i = 0; i < 4; i++) {
                _mm256_storeu_ps(out + (i * 4 + 0) * plane + c, _mm256_sub_ps(e[i][0], e[i][2]));
                _mm256_storeu_ps(out + (i * 4 + 1) * plane + c, _mm256_add_ps(e[i][1], e[i][2]));
                _mm256_storeu_ps(out + (i * 4 + 2) * plane + c, _mm256_sub_ps(e[i][2], e[i][1]));
                _mm256_storeu_ps(out + (i * 4 + 3) * plane + c, _mm256_sub_ps(e[i][1], e[i][3]));
            }
        }
    }
    if (vectorEnd < channels) input_transform(padded, paddedWidth, channels, tilesWide, first, n, vectorEnd, v);
}

/// `output_transform` for eight outputs at a time, the same operations in the same order.
__attribute__((target("avx2,fma")))
static void output_transform_avx2(const float *m, long outputs, long tilesWide, long first, long n,
                                  const float *bias, int relu, int pool, long outHeight, long outWidth, float *out) {
    const long plane = n * outputs, vectorEnd = outputs / 8 * 8;
    const __m256 zero = _mm256_setzero_ps();
    for (long t = 0; t < n; t++) {
        const long ty = (first + t) / tilesWide, tx = (first + t) % tilesWide;
        const float *mt = m + t * outputs;
        for (long o = 0; o < vectorEnd; o += 8) {
            __m256 s[4][2];
            for (int i = 0; i < 4; i++) {
                const __m256 a0 = _mm256_loadu_ps(mt + (i * 4 + 0) * plane + o), a1 = _mm256_loadu_ps(mt + (i * 4 + 1) * plane + o),
                             a2 = _mm256_loadu_ps(mt + (i * 4 + 2) * plane + o), a3 = _mm256_loadu_ps(mt + (i * 4 + 3) * plane + o);
                s[i][0] = _mm256_add_ps(_mm256_add_ps(a0, a1), a2);
                s[i][1] = _mm256_sub_ps(_mm256_sub_ps(a1, a2), a3);
            }
            const __m256 b = _mm256_loadu_ps(bias + o);
            __m256 y[2][2];
            for (int j = 0; j < 2; j++) {
                y[0][j] = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(s[0][j], s[1][j]), s[2][j]), b);
                y[1][j] = _mm256_add_ps(_mm256_sub_ps(_mm256_sub_ps(s[1][j], s[2][j]), s[3][j]), b);
                // y > 0 ? y : 0 as in the scalar code (a NaN becomes 0).
                if (relu) {
                    y[0][j] = _mm256_and_ps(y[0][j], _mm256_cmp_ps(y[0][j], zero, _CMP_GT_OQ));
                    y[1][j] = _mm256_and_ps(y[1][j], _mm256_cmp_ps(y[1][j], zero, _CMP_GT_OQ));
                }
            }
            if (pool) {
                // best = v > best ? v : best, in window order.
                __m256 best = y[0][0];
                best = _mm256_max_ps(y[0][1], best);
                best = _mm256_max_ps(y[1][0], best);
                best = _mm256_max_ps(y[1][1], best);
                _mm256_storeu_ps(out + (ty * (outWidth / 2) + tx) * outputs + o, best);
                continue;
            }
            for (int i = 0; i < 2; i++) {
                const long oy = 2 * ty + i;
                if (oy >= outHeight) continue;
                for (int j = 0; j < 2; j++) {
                    const long ox = 2 * tx + j;
                    if (ox < outWidth) _mm256_storeu_ps(out + (oy * outWidth + ox) * outputs + o, y[i][j]);
                }
            }
        }
    }
    if (vectorEnd < outputs)
        output_transform(m, outputs, tilesWide, first, n, vectorEnd, bias, relu, pool, outHeight, outWidth, out);
}
#endif

void fsk_winograd_convolve(const float *padded, long paddedWidth, long channels, long outHeight, long outWidth,
                           const float *packed, const float *bias, long outputs, int relu, int pool,
                           float *scratch, float *out) {
    const long tilesHigh = (outHeight + 1) / 2, tilesWide = (outWidth + 1) / 2;
    const long tiles = tilesHigh * tilesWide;
    const long count = fsk_packed_count(outputs, channels);
    float *v = scratch, *m = scratch + 16 * FSK_WINOGRAD_CHUNK * channels;
    long rows[FSK_WINOGRAD_CHUNK];
#if defined(__x86_64__) || defined(__i386__)
    const int avx2 = fsk_uses_avx2();
#endif
    for (long first = 0; first < tiles; first += FSK_WINOGRAD_CHUNK) {
        const long n = tiles - first < FSK_WINOGRAD_CHUNK ? tiles - first : FSK_WINOGRAD_CHUNK;
#if defined(__x86_64__) || defined(__i386__)
        if (avx2) input_transform_avx2(padded, paddedWidth, channels, tilesWide, first, n, v);
        else
#endif
            input_transform(padded, paddedWidth, channels, tilesWide, first, n, 0, v);
        for (long t = 0; t < n; t++) rows[t] = t * channels;
        for (int xi = 0; xi < 16; xi++) {
            fsk_pack_product(v + xi * n * channels, rows, n, channels, packed + xi * count, outputs,
                             m + xi * n * outputs, outputs);
        }
#if defined(__x86_64__) || defined(__i386__)
        if (avx2) output_transform_avx2(m, outputs, tilesWide, first, n, bias, relu, pool, outHeight, outWidth, out);
        else
#endif
            output_transform(m, outputs, tilesWide, first, n, 0, bias, relu, pool, outHeight, outWidth, out);
    }
}
