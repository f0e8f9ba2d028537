#include "kernels/f32-vbinary/f32-vbinary.h"

#define OFX_DEFINE_VBINARY(op, expr)                                                      \
  void ofx_f32_v##op##__scalar(size_t n, const float *a, const float *b, float *out) {    \
    for (size_t i = 0; i < n; i++) {                                                      \
      const float x = a[i], y = b[i];                                                     \
      out[i] = (expr);                                                                    \
    }                                                                                     \
  }                                                                                       \
  void ofx_f32_v##op##c__scalar(size_t n, const float *a, const float *b, float *out) {   \
    const float y = b[0];                                                                 \
    for (size_t i = 0; i < n; i++) {                                                      \
      const float x = a[i];                                                               \
      out[i] = (expr);                                                                    \
    }                                                                                     \
  }                                                                                       \
  void ofx_f32_vr##op##c__scalar(size_t n, const float *a, const float *b, float *out) {  \
    const float x = a[0];                                                                 \
    for (size_t i = 0; i < n; i++) {                                                      \
      const float y = b[i];                                                               \
      out[i] = (expr);                                                                    \
    }                                                                                     \
  }

OFX_DEFINE_VBINARY(add, x + y)
OFX_DEFINE_VBINARY(sub, x - y)
OFX_DEFINE_VBINARY(mul, x * y)
OFX_DEFINE_VBINARY(div, x / y)
