/* Elementwise binary kernels: out[i] = a[i] OP b[i], and the "c" variants with a scalar b.
 * Subtraction and division also have "r" variants with a scalar a (out = a OP b[i]). */
#ifndef OFX_KERNELS_F32_VBINARY_H
#define OFX_KERNELS_F32_VBINARY_H

#include <stddef.h>

typedef void (*ofx_f32_vbinary_fn)(size_t n, const float *a, const float *b, float *out);

#define OFX_F32_VBINARY_LIST(X) X(add) X(sub) X(mul) X(div)

#define OFX_DECLARE_VBINARY(op)                                                         \
  void ofx_f32_v##op##__scalar(size_t n, const float *a, const float *b, float *out);   \
  void ofx_f32_v##op##c__scalar(size_t n, const float *a, const float *b, float *out);  \
  void ofx_f32_vr##op##c__scalar(size_t n, const float *a, const float *b, float *out);
OFX_F32_VBINARY_LIST(OFX_DECLARE_VBINARY)
#undef OFX_DECLARE_VBINARY

#endif
