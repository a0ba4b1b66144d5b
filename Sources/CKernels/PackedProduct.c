#include "CKernels.h"
#include "Product.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define FSK_X86 1
#endif

/// The largest tile: 6 rows × 16 columns are 12 AVX accumulators, which with two weight vectors
/// and one broadcast input fill the 16 vector registers.
#define FSK_TILE_ROWS 6

/// The arguments every tile of one call shares.
typedef struct {
    const long *rows;   // R offsets, in floats, of each row's start in the input
    const long *taps;   // T offsets, in floats, of each tap from a row's start
    long tapCount;      // T
    long depth;         // D floats read at each tap
    long outStride;     // floats between consecutive output rows
    int relu;
} fsk_shape;

#if FSK_X86
/// rows × 16 outputs of one block: acc = bias, then acc += x·w in (tap, depth) order.
/// `rows` is a constant at every call site, so the loops over it unroll into registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile_avx2(const int rows, const float *a, const long *offsets, const fsk_shape *s,
                             const float *w, const float *bias, float *out, long columns) {
    __m256 acc[FSK_TILE_ROWS][2];
    const __m256 b0 = _mm256_loadu_ps(bias), b1 = _mm256_loadu_ps(bias + 8);
    for (int i = 0; i < rows; i++) { acc[i][0] = b0; acc[i][1] = b1; }
    for (long t = 0; t < s->tapCount; t++) {
        const float *x[FSK_TILE_ROWS];
        for (int i = 0; i < rows; i++) x[i] = a + offsets[i] + s->taps[t];
        for (long d = 0; d < s->depth; d++, w += FSK_BLOCK) {
            const __m256 w0 = _mm256_loadu_ps(w), w1 = _mm256_loadu_ps(w + 8);
            for (int i = 0; i < rows; i++) {
                const __m256 v = _mm256_broadcast_ss(x[i] + d);
                acc[i][0] = _mm256_fmadd_ps(v, w0, acc[i][0]);
                acc[i][1] = _mm256_fmadd_ps(v, w1, acc[i][1]);
            }
        }
    }
    if (s->relu) {
        const __m256 zero = _mm256_setzero_ps();
        for (int i = 0; i < rows; i++) {
            acc[i][0] = _mm256_max_ps(acc[i][0], zero);
            acc[i][1] = _mm256_max_ps(acc[i][1], zero);
        }
    }
    for (int i = 0; i < rows; i++) {
        float *o = out + i * s->outStride;
        if (columns == FSK_BLOCK) {
            _mm256_storeu_ps(o, acc[i][0]);
            _mm256_storeu_ps(o + 8, acc[i][1]);
        } else {
            float lanes[FSK_BLOCK];
            _mm256_storeu_ps(lanes, acc[i][0]);
            _mm256_storeu_ps(lanes + 8, acc[i][1]);
            memcpy(o, lanes, (size_t)columns * sizeof(float));
        }
    }
}

__attribute__((target("avx2,fma")))
static void tile_dispatch_avx2(int rows, const float *a, const long *offsets, const fsk_shape *s,
                               const float *w, const float *bias, float *out, long columns) {
    switch (rows) {
    case 1: tile_avx2(1, a, offsets, s, w, bias, out, columns); break;
    case 2: tile_avx2(2, a, offsets, s, w, bias, out, columns); break;
    case 3: tile_avx2(3, a, offsets, s, w, bias, out, columns); break;
    case 4: tile_avx2(4, a, offsets, s, w, bias, out, columns); break;
    case 5: tile_avx2(5, a, offsets, s, w, bias, out, columns); break;
    default: tile_avx2(6, a, offsets, s, w, bias, out, columns); break;
    }
}
#endif

/// The portable tile: the same order of operations, one fused multiply-add per term where the
/// compiler contracts it, plain multiply and add otherwise.
static void tile_portable(int rows, const float *a, const long *offsets, const fsk_shape *s,
                          const float *w, const float *bias, float *out, long columns) {
    float acc[FSK_TILE_ROWS][FSK_BLOCK];
    for (int i = 0; i < rows; i++) memcpy(acc[i], bias, sizeof(acc[i]));
    for (long t = 0; t < s->tapCount; t++) {
        const float *x = a + s->taps[t];
        for (long d = 0; d < s->depth; d++, w += FSK_BLOCK) {
            for (int i = 0; i < rows; i++) {
                const float v = x[offsets[i] + d];
                for (int j = 0; j < FSK_BLOCK; j++) acc[i][j] += v * w[j];
            }
        }
    }
    for (int i = 0; i < rows; i++) {
        if (s->relu) {
            for (int j = 0; j < FSK_BLOCK; j++) acc[i][j] = acc[i][j] > 0 ? acc[i][j] : 0;
        }
        memcpy(out + i * s->outStride, acc[i], (size_t)columns * sizeof(float));
    }
}

int fsk_uses_avx2(void) {
#if FSK_X86
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    }
    return known;
#else
    return 0;
#endif
}

long fsk_packed_count(long outputs, long depth) {
    return (outputs + FSK_BLOCK - 1) / FSK_BLOCK * depth * FSK_BLOCK;
}

void fsk_pack(const float *weights, long outputs, long depth, float *packed) {
    const long blocks = (outputs + FSK_BLOCK - 1) / FSK_BLOCK;
    for (long b = 0; b < blocks; b++) {
        float *block = packed + b * depth * FSK_BLOCK;
        for (long k = 0; k < depth; k++) {
            for (long j = 0; j < FSK_BLOCK; j++) {
                const long o = b * FSK_BLOCK + j;
                block[k * FSK_BLOCK + j] = o < outputs ? weights[o * depth + k] : 0;
            }
        }
    }
}

/// Rows 0 ..< rows for blocks firstBlock ..< endBlock, in tiles of at most six rows. The tiles are
/// as even as possible (196 rows go 31 × 6 + 2 × 5, not 32 × 6 + 4), and each block's weights
/// stay in L1 across its tiles.
static void product(const float *a, long rows, const fsk_shape *s, const float *packed,
                    const float *bias, long outputs, float *out, long firstBlock, long endBlock) {
    const long k = s->tapCount * s->depth;
    const long tiles = (rows + FSK_TILE_ROWS - 1) / FSK_TILE_ROWS;
    if (tiles == 0) return;
    const long base = rows / tiles, extra = rows % tiles;
#if FSK_X86
    const int avx2 = fsk_uses_avx2();
#endif
    for (long b = firstBlock; b < endBlock; b++) {
        float blockBias[FSK_BLOCK] = {0};
        const long columns = outputs - b * FSK_BLOCK < FSK_BLOCK ? outputs - b * FSK_BLOCK : FSK_BLOCK;
        if (bias) memcpy(blockBias, bias + b * FSK_BLOCK, (size_t)columns * sizeof(float));
        const float *w = packed + b * k * FSK_BLOCK;
        long row = 0;
        for (long t = 0; t < tiles; t++) {
            const int count = (int)(base + (t < extra));
            const long *offsets = s->rows + row;
            float *o = out + row * s->outStride + b * FSK_BLOCK;
#if FSK_X86
            if (avx2) tile_dispatch_avx2(count, a, offsets, s, w, blockBias, o, columns);
            else
#endif
                tile_portable(count, a, offsets, s, w, blockBias, o, columns);
            row += count;
        }
    }
}

void fsk_convolution_rows(long paddedWidth, long channels, long stride, long outHeight, long outWidth,
                          long *rows) {
    for (long y = 0; y < outHeight; y++)
        for (long x = 0; x < outWidth; x++) rows[y * outWidth + x] = (y * paddedWidth + x) * stride * channels;
}

void fsk_convolve(const float *padded, const long *rows, long paddedWidth, long channels, long kernel,
                  long positions, const float *packed, const float *bias, long outputs, int relu, float *out) {
    long taps[15 * 15];
    if (kernel < 1 || kernel > 15) return;
    for (long ky = 0; ky < kernel; ky++)
        for (long kx = 0; kx < kernel; kx++) taps[ky * kernel + kx] = (ky * paddedWidth + kx) * channels;
    const fsk_shape s = {rows, taps, kernel * kernel, channels, outputs, relu};
    product(padded, positions, &s, packed, bias, outputs, out, 0, (outputs + FSK_BLOCK - 1) / FSK_BLOCK);
}

void fsk_dense(const float *x, long rows, long rowStride, long inputs, const float *packed,
               const float *bias, long outputs, int relu, float *out, long outStride,
               long firstBlock, long endBlock) {
    enum { chunk = 96 };
    const long tap = 0;
    long offsets[chunk];
    // Rows in chunks, so that their offsets fit on the stack; a row's result does not depend on
    // the tile or chunk it falls in.
    for (long first = 0; first < rows; first += chunk) {
        const long count = rows - first < chunk ? rows - first : chunk;
        for (long r = 0; r < count; r++) offsets[r] = r * rowStride;
        const fsk_shape s = {offsets, &tap, 1, inputs, outStride, relu};
        product(x + first * rowStride, count, &s, packed, bias, outputs, out + first * outStride,
                firstBlock, endBlock);
    }
}

void fsk_pack_product(const float *a, const long *rows, long count, long depth, const float *packed,
                      long outputs, float *out, long outStride) {
    const long tap = 0;
    const fsk_shape s = {rows, &tap, 1, depth, outStride, 0};
    product(a, count, &s, packed, NULL, outputs, out, 0, (outputs + FSK_BLOCK - 1) / FSK_BLOCK);
}
