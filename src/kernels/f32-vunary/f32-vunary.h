/* Elementwise unary kernels. */
#ifndef OFX_KERNELS_F32_VUNARY_H
#define OFX_KERNELS_F32_VUNARY_H

#include <stddef.h>

void ofx_f32_vclamp__scalar(size_t n, const float *in, float *out, float min, float max);
void ofx_f32_vsigmoid__scalar(size_t n, const float *in, float *out);

#endif
