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

/// The most blocks one tile spans. A tile of one row over one block keeps two AVX accumulators,
/// and each fused multiply-add waits for the previous one on the same accumulator: a lone
/// request's dense layer would run at the FMA latency, not its throughput. With AVX2, one row
/// over four blocks (and two rows over two) keep eight independent accumulators in flight; with
/// AVX-512's 32 registers of 16 floats, a block is one register and tiles span four blocks (one
/// row: eight). Every output column still sums bias + x·w in (tap, depth) order with one rounding
/// per term, so a row's result depends neither on its tile nor on the instruction set.
#define FSK_TILE_BLOCKS 8

#if FSK_X86
/// rows × (blocks · 16) outputs: acc = bias, then acc += x·w in (tap, depth) order. Block m's
/// weights start `blockStride` floats after block m − 1's. `rows` and `blocks` are constants at
/// every call site, so the loops over them unroll into registers.
__attribute__((target("avx2,fma"), always_inline))
static inline void tile_avx2(const int rows, const int blocks, const float *a, const long *offsets,
                             const fsk_shape *s, const float *w, long blockStride, const float *bias,
                             float *out, long columns) {
    __m256 acc[FSK_TILE_ROWS][8];
    for (int m = 0; m < 2 * blocks; m++) {
        const __m256 b = _mm256_loadu_ps(bias + 8 * m);
        for (int i = 0; i < rows; i++) acc[i][m] = b;
    }
    for (long t = 0; t < s->tapCount; t++) {
        const float *x[FSK_TILE_ROWS];
        for (int i = 0; i < rows; i++) x[i] = a + offsets[i] + s->taps[t];
        for (long d = 0; d < s->depth; d++, w += FSK_BLOCK) {
            for (int m = 0; m < blocks; m++) {
                const __m256 w0 = _mm256_loadu_ps(w + m * blockStride), w1 = _mm256_loadu_ps(w + m * blockStride + 8);
                for (int i = 0; i < rows; i++) {
                    const __m256 v = _mm256_broadcast_ss(x[i] + d);
                    acc[i][2 * m] = _mm256_fmadd_ps(v, w0, acc[i][2 * m]);
                    acc[i][2 * m + 1] = _mm256_fmadd_ps(v, w1, acc[i][2 * m + 1]);
                }
            }
        }
    }
    if (s->relu) {
        const __m256 zero = _mm256_setzero_ps();
        for (int i = 0; i < rows; i++)
            for (int m = 0; m < 2 * blocks; m++) acc[i][m] = _mm256_max_ps(acc[i][m], zero);
    }
    for (int i = 0; i < rows; i++) {
        float *o = out + i * s->outStride;
        for (int m = 0; m < blocks - 1; m++) {
            _mm256_storeu_ps(o + m * FSK_BLOCK, acc[i][2 * m]);
            _mm256_storeu_ps(o + m * FSK_BLOCK + 8, acc[i][2 * m + 1]);
        }
        o += (blocks - 1) * FSK_BLOCK;
        const int last = 2 * (blocks - 1);
        if (columns == FSK_BLOCK) {
            _mm256_storeu_ps(o, acc[i][last]);
            _mm256_storeu_ps(o + 8, acc[i][last + 1]);
        } else {
            float lanes[FSK_BLOCK];
            _mm256_storeu_ps(lanes, acc[i][last]);
            _mm256_storeu_ps(lanes + 8, acc[i][last + 1]);
            memcpy(o, lanes, (size_t)columns * sizeof(float));
        }
    }
}

/// The AVX2 tile for `rows` rows over `blocks` blocks: up to four blocks for one row, two for two
/// rows, one otherwise: three rows over two blocks spill registers (`tile_blocks` says which).
__attribute__((target("avx2,fma")))
static void tile_dispatch_avx2(int rows, int blocks, const float *a, const long *offsets, const fsk_shape *s,
                               const float *w, long blockStride, const float *bias, float *out, long columns) {
    switch (rows) {
    case 1:
        if (blocks == 4) tile_avx2(1, 4, a, offsets, s, w, blockStride, bias, out, columns);
        else if (blocks == 2) tile_avx2(1, 2, a, offsets, s, w, blockStride, bias, out, columns);
        else tile_avx2(1, 1, a, offsets, s, w, blockStride, bias, out, columns);
        break;
    case 2:
        if (blocks == 2) tile_avx2(2, 2, a, offsets, s, w, blockStride, bias, out, columns);
        else tile_avx2(2, 1, a, offsets, s, w, blockStride, bias, out, columns);
        break;
    case 3: tile_avx2(3, 1, a, offsets, s, w, blockStride, bias, out, columns); break;
    case 4: tile_avx2(4, 1, a, offsets, s, w, blockStride, bias, out, columns); break;
    case 5: tile_avx2(5, 1, a, offsets, s, w, blockStride, bias, out, columns); break;
    default: tile_avx2(6, 1, a, offsets, s, w, blockStride, bias, out, columns); break;
    }
}

/// rows × (blocks · 16) outputs with one AVX-512 register per row and block; otherwise as
/// tile_avx2.
__attribute__((target("avx512f"), always_inline))
static inline void tile_avx512(const int rows, const int blocks, const float *a, const long *offsets,
                               const fsk_shape *s, const float *w, long blockStride, const float *bias,
                               float *out, long columns) {
    __m512 acc[FSK_TILE_ROWS][FSK_TILE_BLOCKS];
    for (int m = 0; m < blocks; m++) {
        const __m512 b = _mm512_loadu_ps(bias + FSK_BLOCK * m);
        for (int i = 0; i < rows; i++) acc[i][m] = b;
    }
    for (long t = 0; t < s->tapCount; t++) {
        const float *x[FSK_TILE_ROWS];
        for (int i = 0; i < rows; i++) x[i] = a + offsets[i] + s->taps[t];
        for (long d = 0; d < s->depth; d++, w += FSK_BLOCK) {
            __m512 wm[FSK_TILE_BLOCKS];
            for (int m = 0; m < blocks; m++) wm[m] = _mm512_loadu_ps(w + m * blockStride);
            for (int i = 0; i < rows; i++) {
                const __m512 v = _mm512_set1_ps(x[i][d]);
                for (int m = 0; m < blocks; m++) acc[i][m] = _mm512_fmadd_ps(v, wm[m], acc[i][m]);
            }
        }
    }
    if (s->relu) {
        const __m512 zero = _mm512_setzero_ps();
        for (int i = 0; i < rows; i++)
            for (int m = 0; m < blocks; m++) acc[i][m] = _mm512_max_ps(acc[i][m], zero);
    }
    const __mmask16 last = (__mmask16)((1u << columns) - 1);
    for (int i = 0; i < rows; i++) {
        float *o = out + i * s->outStride;
        for (int m = 0; m < blocks - 1; m++) _mm512_storeu_ps(o + m * FSK_BLOCK, acc[i][m]);
        _mm512_mask_storeu_ps(o + (blocks - 1) * FSK_BLOCK, last, acc[i][blocks - 1]);
    }
}

#define FSK_AVX512_ROWS(r)                                                                              \
    case r:                                                                                             \
        switch (blocks) {                                                                               \
        case 8: tile_avx512(r, 8, a, offsets, s, w, blockStride, bias, out, columns); break;            \
        case 4: tile_avx512(r, 4, a, offsets, s, w, blockStride, bias, out, columns); break;            \
        case 2: tile_avx512(r, 2, a, offsets, s, w, blockStride, bias, out, columns); break;            \
        default: tile_avx512(r, 1, a, offsets, s, w, blockStride, bias, out, columns); break;           \
        }                                                                                               \
        break;

/// The AVX-512 tile for `rows` rows over 1, 2, 4 or 8 blocks (`tile_blocks` says which).
__attribute__((target("avx512f")))
static void tile_dispatch_avx512(int rows, int blocks, const float *a, const long *offsets, const fsk_shape *s,
                                 const float *w, long blockStride, const float *bias, float *out, long columns) {
    switch (rows) {
    FSK_AVX512_ROWS(1)
    FSK_AVX512_ROWS(2)
    FSK_AVX512_ROWS(3)
    FSK_AVX512_ROWS(4)
    FSK_AVX512_ROWS(5)
    default:
    FSK_AVX512_ROWS(6)
    }
}
#undef FSK_AVX512_ROWS
#endif

/// The portable tile: the same order of operations, one fused multiply-add per term where the
/// compiler contracts it, plain multiply and add otherwise.
static void tile_portable_block(int rows, const float *a, const long *offsets, const fsk_shape *s,
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

static void tile_portable(int rows, int blocks, const float *a, const long *offsets, const fsk_shape *s,
                          const float *w, long blockStride, const float *bias, float *out, long columns) {
    for (int m = 0; m < blocks; m++)
        tile_portable_block(rows, a, offsets, s, w + m * blockStride, bias + m * FSK_BLOCK, out + m * FSK_BLOCK,
                            m == blocks - 1 ? columns : FSK_BLOCK);
}

static int avx512_allowed = 1;

void fsk_set_avx512_allowed(int allowed) { __atomic_store_n(&avx512_allowed, allowed != 0, __ATOMIC_RELAXED); }

int fsk_uses_avx512(void) {
#if FSK_X86
    static int known = -1;
    if (known < 0) {
        __builtin_cpu_init();
        known = __builtin_cpu_supports("avx512f");
    }
    return known && __atomic_load_n(&avx512_allowed, __ATOMIC_RELAXED);
#else
    return 0;
#endif
}

/// The most blocks a tile of `rows` rows spans (see FSK_TILE_BLOCKS); fewer where fewer whole
/// blocks remain.
static int tile_blocks(long rows, int avx512) {
    if (avx512) return rows == 1 ? 8 : 4;
    return rows == 1 ? 4 : rows == 2 ? 2 : 1;
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
    const int avx512 = fsk_uses_avx512(), avx2 = fsk_uses_avx2();
#else
    const int avx512 = 0;
#endif
    const int wide = tile_blocks(rows, avx512);
    for (long b = firstBlock; b < endBlock;) {
        // The widest group of whole blocks that remains takes one tile; a last partial block goes alone.
        int blocks = wide;
        while (blocks > 1 && (b + blocks > endBlock || (b + blocks) * FSK_BLOCK > outputs)) blocks /= 2;
        float blockBias[FSK_BLOCK * FSK_TILE_BLOCKS] = {0};
        const long end = (b + blocks) * FSK_BLOCK < outputs ? (b + blocks) * FSK_BLOCK : outputs;
        const long columns = end - (b + blocks - 1) * FSK_BLOCK;
        if (bias) memcpy(blockBias, bias + b * FSK_BLOCK, (size_t)(end - b * FSK_BLOCK) * sizeof(float));
        const float *w = packed + b * k * FSK_BLOCK;
        long row = 0;
        for (long t = 0; t < tiles; t++) {
            const int count = (int)(base + (t < extra));
            const long *offsets = s->rows + row;
            float *o = out + row * s->outStride + b * FSK_BLOCK;
#if FSK_X86
            if (avx512) tile_dispatch_avx512(count, blocks, a, offsets, s, w, k * FSK_BLOCK, blockBias, o, columns);
            else if (avx2) tile_dispatch_avx2(count, blocks, a, offsets, s, w, k * FSK_BLOCK, blockBias, o, columns);
            else
#endif
                tile_portable(count, blocks, a, offsets, s, w, k * FSK_BLOCK, blockBias, o, columns);
            row += count;
        }
        b += blocks;
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
