/* Elementwise binary kernels: out[i] = a[i] OP b[i], and the "c" variants with a scalar b.
 * Every op also has an "r" variant with a scalar a (out = a[0] OP b[i]). The wasmsimd_u8
 * variants (8 floats per iteration) have the same contract. */
#ifndef OFX_KERNELS_F32_VBINARY_H
#define OFX_KERNELS_F32_VBINARY_H

#include <stddef.h>

#include "kernels/common.h"

typedef void (*ofx_f32_vbinary_fn)(size_t n, const float *a, const float *b, float *out);

#define OFX_F32_VBINARY_LIST(X) X(add) X(sub) X(mul) X(div)

#define OFX_DECLARE_VBINARY(op, arch)                                                        \
  void ofx_f32_v##op##__##arch(size_t n, const float *a, const float *b, float *out);       \
  void ofx_f32_v##op##c__##arch(size_t n, const float *a, const float *b, float *out);      \
  void ofx_f32_vr##op##c__##arch(size_t n, const float *a, const float *b, float *out);
#define OFX_DECLARE_VBINARY_SCALAR(op) OFX_DECLARE_VBINARY(op, scalar)
OFX_F32_VBINARY_LIST(OFX_DECLARE_VBINARY_SCALAR)
#undef OFX_DECLARE_VBINARY_SCALAR
#if OFX_ARCH_WASMSIMD
#define OFX_DECLARE_VBINARY_SIMD(op) OFX_DECLARE_VBINARY(op, wasmsimd_u8)
OFX_F32_VBINARY_LIST(OFX_DECLARE_VBINARY_SIMD)
#undef OFX_DECLARE_VBINARY_SIMD
#endif
#undef OFX_DECLARE_VBINARY

#endif
