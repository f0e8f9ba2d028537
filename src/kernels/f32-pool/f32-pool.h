/* Pooling kernels: over NCHW planes (the references), and over one NHWC image with the
 * channels innermost (the fast path: SIMD over channels; *__scalar versions are plain loops). */
#ifndef OFX_KERNELS_F32_POOL_H
#define OFX_KERNELS_F32_POOL_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ofx_pool2d_params {
  size_t in_height, in_width, out_height, out_width;
  size_t kernel_height, kernel_width;
  size_t stride_height, stride_width;
  size_t dilation_height, dilation_width;
  size_t pad_top, pad_left, pad_bottom, pad_right;
  bool count_include_pad; /* average pooling: divide by the window including padding */
} ofx_pool2d_params;

void ofx_f32_maxpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output);
void ofx_f32_avgpool2d_nchw__scalar(const ofx_pool2d_params *p, size_t planes, const float *input,
                                    float *output);
/* output[i] = mean of the `plane_size` elements of plane i */
void ofx_f32_global_avgpool_nchw__scalar(size_t planes, size_t plane_size, const float *input,
                                         float *output);

/* One NHWC image: input [in_height][in_width][channels], output [out_height][out_width][channels];
 * same results as the NCHW references (max: NaN if any input of the window is NaN, -FLT_MAX for
 * an empty window; average: summed in tap order, then divided). */
typedef void (*ofx_f32_pool2d_nhwc_fn)(const ofx_pool2d_params *p, size_t channels, const float *input,
                                       float *output);
/* output[c] = mean over the `pixels` pixels of channel c (accumulated in double) */
typedef void (*ofx_f32_global_avgpool_nhwc_fn)(size_t pixels, size_t channels, const float *input,
                                               float *output);

void ofx_f32_maxpool2d_nhwc__scalar(const ofx_pool2d_params *p, size_t channels, const float *input,
                                    float *output);
void ofx_f32_avgpool2d_nhwc__scalar(const ofx_pool2d_params *p, size_t channels, const float *input,
                                    float *output);
void ofx_f32_global_avgpool_nhwc__scalar(size_t pixels, size_t channels, const float *input, float *output);
#if defined(__wasm_simd128__)
void ofx_f32_maxpool2d_nhwc__wasmsimd(const ofx_pool2d_params *p, size_t channels, const float *input,
                                      float *output);
void ofx_f32_avgpool2d_nhwc__wasmsimd(const ofx_pool2d_params *p, size_t channels, const float *input,
                                      float *output);
void ofx_f32_global_avgpool_nhwc__wasmsimd(size_t pixels, size_t channels, const float *input, float *output);
#endif

#endif
