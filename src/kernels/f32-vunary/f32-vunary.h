/* Elementwise unary kernels; the wasmsimd_u8 variants have the same contract. */
#ifndef OFX_KERNELS_F32_VUNARY_H
#define OFX_KERNELS_F32_VUNARY_H

#include <stddef.h>

#include "kernels/common.h"

typedef void (*ofx_f32_vclamp_fn)(size_t n, const float *in, float *out, float min, float max);
typedef void (*ofx_f32_vunary_fn)(size_t n, const float *in, float *out);

void ofx_f32_vclamp__scalar(size_t n, const float *in, float *out, float min, float max);
void ofx_f32_vsigmoid__scalar(size_t n, const float *in, float *out);
/* ONNX HardSwish: x * clamp(x / 6 + 0.5, 0, 1) */
void ofx_f32_vhardswish__scalar(size_t n, const float *in, float *out);

#if OFX_ARCH_WASMSIMD
void ofx_f32_vclamp__wasmsimd_u8(size_t n, const float *in, float *out, float min, float max);
/* within 2e-7 absolute + 3e-6 relative of the scalar (libm expf) version */
void ofx_f32_vsigmoid__wasmsimd_u8(size_t n, const float *in, float *out);
void ofx_f32_vhardswish__wasmsimd_u8(size_t n, const float *in, float *out);
#endif

#endif
