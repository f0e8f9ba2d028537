/* Elementwise unary kernels; the wasmsimd_u8 variants have the same contract. */
#ifndef OFX_KERNELS_F32_VUNARY_H
#define OFX_KERNELS_F32_VUNARY_H

#include <stddef.h>

#include "kernels/common.h"

typedef void (*ofx_f32_vclamp_fn)(size_t n, const float *in, float *out, float min, float max);
typedef void (*ofx_f32_vunary_fn)(size_t n, const float *in, float *out);

void ofx_f32_vclamp__scalar(size_t n, const float *in, float *out, float min, float max);
void ofx_f32_vsigmoid__scalar(size_t n, const float *in, float *out);
/* SiLU / swish: out[i] = x * sigmoid(x) */
void ofx_f32_vswish__scalar(size_t n, const float *in, float *out);
void ofx_f32_vsqrt__scalar(size_t n, const float *in, float *out);
/* ONNX HardSwish: x * clamp(x / 6 + 0.5, 0, 1) */
void ofx_f32_vhardswish__scalar(size_t n, const float *in, float *out);
/* Softmax's middle pass: out[i] = e^(in[i] - max) (max >= every in[i]); returns their sum. */
typedef float (*ofx_f32_vexpminusmax_fn)(size_t n, const float *in, float max, float *out);
float ofx_f32_vexpminusmax__scalar(size_t n, const float *in, float max, float *out);
/* out[i] = erf(in[i]) (GELU's Div-Erf-Add-Mul-Mul) */
void ofx_f32_verf__scalar(size_t n, const float *in, float *out);

/* fn in place on a rows x cols block whose rows are stride floats apart: the drivers apply a
 * fused activation to each output tile right after computing it, while it is in cache. */
static inline void ofx_f32_vunary_block(ofx_f32_vunary_fn fn, size_t rows, size_t cols, float *c, size_t stride) {
  if (cols == stride) {
    fn(rows * cols, c, c);
    return;
  }
  for (size_t r = 0; r < rows; r++) fn(cols, c + r * stride, c + r * stride);
}

#if OFX_ARCH_WASMSIMD
void ofx_f32_vclamp__wasmsimd_u8(size_t n, const float *in, float *out, float min, float max);
/* within 2e-7 absolute + 3e-6 relative of the scalar (libm expf) version */
void ofx_f32_vsigmoid__wasmsimd_u8(size_t n, const float *in, float *out);
/* x * the wasmsimd sigmoid (so within 2e-7|x| + 3e-6 relative of the scalar one) */
void ofx_f32_vswish__wasmsimd_u8(size_t n, const float *in, float *out);
/* exact (IEEE sqrt) */
void ofx_f32_vsqrt__wasmsimd_u8(size_t n, const float *in, float *out);
void ofx_f32_vhardswish__wasmsimd_u8(size_t n, const float *in, float *out);
/* within 3e-7 relative of the scalar (libm expf) version per element */
float ofx_f32_vexpminusmax__wasmsimd_u8(size_t n, const float *in, float max, float *out);
/* within 3e-7 absolute of the scalar (libm erff) version */
void ofx_f32_verf__wasmsimd_u8(size_t n, const float *in, float *out);
#endif

#endif
