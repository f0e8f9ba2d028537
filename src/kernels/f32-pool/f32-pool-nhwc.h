/* The window walk shared by the NHWC pooling kernels (scalar and wasmsimd): calls
 * TAP(pointer to the input pixel) for every in-image tap of output pixel (oy, ox), in the tap
 * order of the NCHW references, and computes the average-pool divisor. */
#ifndef OFX_KERNELS_F32_POOL_NHWC_H
#define OFX_KERNELS_F32_POOL_NHWC_H

#include "kernels/f32-pool/f32-pool.h"

#define OFX_POOL_NHWC_FOR_TAPS(p, channels, input, oy, ox, count, padded_count, TAP)                      \
  do {                                                                                                    \
    for (size_t kh_ = 0; kh_ < (p)->kernel_height; kh_++) {                                               \
      const long long ih_ = (long long)((oy) * (p)->stride_height + kh_ * (p)->dilation_height) -         \
                            (long long)(p)->pad_top;                                                      \
      const bool h_pad_ = ih_ >= -(long long)(p)->pad_top && ih_ < (long long)((p)->in_height + (p)->pad_bottom); \
      for (size_t kw_ = 0; kw_ < (p)->kernel_width; kw_++) {                                              \
        const long long iw_ = (long long)((ox) * (p)->stride_width + kw_ * (p)->dilation_width) -         \
                              (long long)(p)->pad_left;                                                   \
        const bool w_pad_ = iw_ >= -(long long)(p)->pad_left && iw_ < (long long)((p)->in_width + (p)->pad_right); \
        if (h_pad_ && w_pad_) (padded_count)++;                                                           \
        if (ih_ < 0 || ih_ >= (long long)(p)->in_height || iw_ < 0 || iw_ >= (long long)(p)->in_width)    \
          continue;                                                                                       \
        (count)++;                                                                                        \
        const float *tap_ = (input) + ((size_t)ih_ * (p)->in_width + (size_t)iw_) * (channels);           \
        TAP(tap_);                                                                                        \
      }                                                                                                   \
    }                                                                                                     \
  } while (0)

#endif
