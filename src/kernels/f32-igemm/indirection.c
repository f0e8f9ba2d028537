#include "kernels/f32-igemm/f32-igemm.h"

size_t ofx_indirection_size_conv2d(size_t out_h, size_t out_w, size_t kh, size_t kw, size_t mr) {
  return ofx_round_up(out_h * out_w, mr) * kh * kw;
}

void ofx_indirection_init_conv2d_nhwc(const float **indirection, const float *input,
                                      size_t input_pixel_stride, const float *zero, size_t in_h,
                                      size_t in_w, size_t out_h, size_t out_w, size_t kh,
                                      size_t kw, size_t stride_h, size_t stride_w, size_t dil_h,
                                      size_t dil_w, size_t pad_top, size_t pad_left, size_t mr) {
  const size_t out_size = out_h * out_w, taps = kh * kw;
  const size_t tiled = ofx_round_up(out_size, mr);
  for (size_t p = 0; p < tiled; p++) {
    /* padding rows of the last tile read the last real pixel: valid memory, results dropped */
    const size_t q = p < out_size ? p : out_size - 1;
    const size_t oy = q / out_w, ox = q % out_w;
    const float **dst = indirection + (p / mr) * mr * taps + p % mr;
    for (size_t ky = 0; ky < kh; ky++) {
      /* unsigned wrap makes a position above/left of the image compare >= in_h / in_w */
      const size_t iy = oy * stride_h + ky * dil_h - pad_top;
      for (size_t kx = 0; kx < kw; kx++) {
        const size_t ix = ox * stride_w + kx * dil_w - pad_left;
        const size_t t = ky * kw + kx;
        dst[t * mr] = (iy < in_h && ix < in_w) ? input + (iy * in_w + ix) * input_pixel_stride : zero;
      }
    }
  }
}
