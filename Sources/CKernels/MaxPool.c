#include "CKernels.h"

#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>

/// out = v > out ? v : out, eight channels at a time: maxps returns its second operand when the
/// comparison is unordered, which keeps a NaN already in `out` and ignores a later one.
__attribute__((target("avx2")))
static void pool_avx2(const float *x, long width, long channels, long kernel, long stride,
                      long outHeight, long outWidth, float *out) {
    for (long oy = 0; oy < outHeight; oy++) {
        for (long ox = 0; ox < outWidth; ox++) {
            float *o = out + (oy * outWidth + ox) * channels;
            const float *corner = x + (oy * stride * width + ox * stride) * channels;
            long c = 0;
            for (; c + 8 <= channels; c += 8) {
                __m256 best = _mm256_loadu_ps(corner + c);
                for (long ky = 0; ky < kernel; ky++)
                    for (long kx = 0; kx < kernel; kx++) {
                        if (ky == 0 && kx == 0) continue;
                        best = _mm256_max_ps(_mm256_loadu_ps(corner + (ky * width + kx) * channels + c), best);
                    }
                _mm256_storeu_ps(o + c, best);
            }
            for (; c < channels; c++) {
                float best = corner[c];
                for (long ky = 0; ky < kernel; ky++)
                    for (long kx = 0; kx < kernel; kx++) {
                        const float v = corner[(ky * width + kx) * channels + c];
                        if (v > best) best = v;
                    }
                o[c] = best;
            }
        }
    }
}
#endif

static void pool_portable(const float *x, long width, long channels, long kernel, long stride,
                          long outHeight, long outWidth, float *out) {
    for (long oy = 0; oy < outHeight; oy++) {
        for (long ox = 0; ox < outWidth; ox++) {
            float *o = out + (oy * outWidth + ox) * channels;
            const float *corner = x + (oy * stride * width + ox * stride) * channels;
            memcpy(o, corner, (size_t)channels * sizeof(float));
            for (long ky = 0; ky < kernel; ky++)
                for (long kx = 0; kx < kernel; kx++) {
                    const float *v = corner + (ky * width + kx) * channels;
                    for (long c = 0; c < channels; c++) o[c] = v[c] > o[c] ? v[c] : o[c];
                }
        }
    }
}

void fsk_max_pool(const float *x, long height, long width, long channels, long kernel, long stride,
                  float *out) {
    const long outHeight = (height - kernel) / stride + 1, outWidth = (width - kernel) / stride + 1;
#if defined(__x86_64__) || defined(__i386__)
    if (fsk_uses_avx2()) {
        pool_avx2(x, width, channels, kernel, stride, outHeight, outWidth, out);
        return;
    }
#endif
    pool_portable(x, width, channels, kernel, stride, outHeight, outWidth, out);
}
