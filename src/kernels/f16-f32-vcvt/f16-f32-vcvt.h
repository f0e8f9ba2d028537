/* float16 -> float32 conversion, for weights stored in half precision
 * (OFX_EXTRACTOR_FLOAT16_WEIGHTS): widened into the step's scratch right before the float32
 * GEMM reads them. Exact for every finite value, infinities and zeros; NaN stays NaN. */
#ifndef OFX_KERNELS_F16_F32_VCVT_H
#define OFX_KERNELS_F16_F32_VCVT_H

#include <stddef.h>
#include <stdint.h>

/* y[i] = float(x[i]) for i < n; x holds IEEE binary16 bit patterns. */
typedef void (*ofx_f16_f32_vcvt_fn)(size_t n, const uint16_t *x, float *y);
void ofx_f16_f32_vcvt__scalar(size_t n, const uint16_t *x, float *y);
void ofx_f16_f32_vcvt__wasmsimd_u16(size_t n, const uint16_t *x, float *y);

/* y[i] = x[i] rounded to the nearest float16 (ties to even; overflow to infinity; NaN stays
 * NaN): packing weights for float16 storage (ViT-H/14's 632 M weights took 3 s in scalar). */
typedef void (*ofx_f32_f16_vcvt_fn)(size_t n, const float *x, uint16_t *y);
void ofx_f32_f16_vcvt__scalar(size_t n, const float *x, uint16_t *y);
void ofx_f32_f16_vcvt__wasmsimd_u8(size_t n, const float *x, uint16_t *y);

#endif
