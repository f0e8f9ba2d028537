/* 8-bit depthwise convolution, one output pixel per call, float32 out: the depthwise layers of
 * quantized models (mobilenet's), where a GEMM per channel would be 1 column wide.
 *
 *   y[c] = clamp(float(sum_t (x[t][c] - zero_point) * w[t * channels + c]) * scale[c] + bias[c])
 *
 * x[t] points at tap t's run of `channels` 8-bit values (uint8 unless is_signed) in an NHWC
 * image, or at a run holding the zero point for a padding tap (so it adds 0). w holds the weights
 * with their zero points taken off, as int16, tap by tap over channels. Products of two values in
 * [-255, 255] summed over up to 32767 taps stay in int32. */
#ifndef OFX_KERNELS_Q8_DWCONV_H
#define OFX_KERNELS_Q8_DWCONV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void (*ofx_q8_dwconv_minmax_ukernel_fn)(size_t channels, size_t taps, const uint8_t *const *x, bool is_signed,
                                                int32_t zero_point, const int16_t *w, const float *scale, const float *bias,
                                                float *y, float output_min, float output_max);

void ofx_q8_dwconv_minmax_ukernel__scalar(size_t channels, size_t taps, const uint8_t *const *x, bool is_signed,
                                          int32_t zero_point, const int16_t *w, const float *scale, const float *bias,
                                          float *y, float output_min, float output_max);
void ofx_q8_dwconv_minmax_ukernel_16c__wasmsimd(size_t channels, size_t taps, const uint8_t *const *x, bool is_signed,
                                                int32_t zero_point, const int16_t *w, const float *scale,
                                                const float *bias, float *y, float output_min, float output_max);

#endif
