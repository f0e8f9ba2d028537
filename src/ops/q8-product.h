/* The 8-bit convolution and matrix product on the 8-bit GEMM (kernels/q8-gemm), one
 * implementation for the three forms quantized models ship in (ops/integer-product.c):
 *   - dynamic: ConvInteger / MatMulInteger fused with their dequantizing chain: 8-bit input,
 *     activation scale known only at run (DynamicQuantizeLinear's), float32 out;
 *   - QDQ: Conv / MatMul whose input and weights are dequantized 8-bit values: the float input
 *     is quantized here with its QuantizeLinear's constant scale, float32 out;
 *   - QOperator: QLinearConv / QLinearMatMul: 8-bit in, float32 out that the op requantizes.
 * Weights are packed once with their zero points taken off, per-column scales and bias in each
 * block's header. A convolution's K runs tap by tap over contiguous channels, so the input is
 * staged as an 8-bit NHWC image and each GEMM row is kh*kw runs of channels widened to int16
 * (x - zero_point), padding taps left 0 (the zero point's value). Depthwise convolutions (one
 * channel per group) skip the GEMM, whose columns would be 1 wide: int32 sums over each tap run
 * along contiguous channels. */
#ifndef OFX_OPS_Q8_PRODUCT_H
#define OFX_OPS_Q8_PRODUCT_H

#include "ops/op.h"

typedef struct ofx_threadpool ofx_threadpool;

/* Constant 8-bit weights with per-tensor or per-axis scale and zero point (zero_point NULL: 0). */
typedef struct ofx_q8_weights {
  const ofx_value *w, *scale, *zero_point;
  int axis;      /* the axis of per-axis parameters: the output channels' (conv 0, MatMul 1) */
  size_t groups; /* conv groups (1 for MatMul) */
} ofx_q8_weights;

typedef struct ofx_q8_product {
  bool conv;                   /* OIHW weights; else MatMul's [K, N] */
  size_t groups, group_n, n;   /* output columns per group, in all */
  size_t k, k_stride;          /* K steps; int16 row stride (K padded to even) */
  size_t kh, kw, cg;           /* conv: kernel and input channels per group */
  size_t nr, group_bytes, block_bytes;
  float *w_scale;              /* per column */
  /* GEMM blocks, groups x group_bytes; depthwise: n scales, n biases (float), then int16
   * weights (w - zero_point) tap by tap over channels */
  char *packed;
  size_t packed_bytes;
  bool depthwise;              /* one input and one output channel per group: no GEMM */
  float scale_factor;          /* the factor of w_scale the block headers hold now */
  float output_min, output_max;
} ofx_q8_product;

/* Where the rows come from: a float32 tensor quantized here (scale, zero_point, to type qtype),
 * or an 8-bit tensor (its zero point). NCHW or NHWC when rank 4. */
typedef struct ofx_q8_source {
  const ofx_tensor *x;
  float scale;
  int32_t zero_point;
  ofx_dtype qtype; /* uint8 or int8 */
} ofx_q8_source;

/* A convolution's geometry for one input shape (reshape fills it). */
typedef struct ofx_q8_geometry {
  size_t batch, in_h, in_w, in_c, out_h, out_w;
  size_t stride[2], dilation[2], pad_top, pad_left;
} ofx_q8_geometry;

/* Packs w. Conv weights [N, C/groups, kh, kw], MatMul's [K, N]. The block headers get
 * scale_factor * w_scale[j] and, for each column, float_bias[j] or int_bias[j] * scale_factor *
 * w_scale[j] (QLinearConv's int32 bias), or 0. False (nothing allocated) when the weights or
 * their parameters do not fit this form or memory runs out: the caller keeps its other path. */
bool ofx_q8_product_pack(ofx_q8_product *p, bool conv, const ofx_q8_weights *w, const float *float_bias,
                         const int32_t *int_bias, float scale_factor);
void ofx_q8_product_free(ofx_q8_product *p);

/* Rewrites the block headers for another scale factor (a dynamic activation scale), when it
 * changed since the last call. */
void ofx_q8_product_set_scale(ofx_q8_product *p, float scale_factor);

/* Scratch bytes ofx_q8_conv_run / ofx_q8_matmul_run need. */
size_t ofx_q8_conv_scratch(const ofx_q8_product *p, const ofx_q8_geometry *g, const ofx_tensor *x);
size_t ofx_q8_matmul_scratch(const ofx_q8_product *p, size_t rows, const ofx_tensor *x);

/* y: per image, out_h * out_w pixels of n floats (NHWC). */
void ofx_q8_conv_run(const ofx_q8_product *p, const ofx_q8_geometry *g, const ofx_q8_source *src, float *y, void *scratch,
                     ofx_threadpool *pool);
/* y: rows of n floats; src->x holds rows of K elements. */
void ofx_q8_matmul_run(const ofx_q8_product *p, size_t rows, const ofx_q8_source *src, float *y, void *scratch,
                       ofx_threadpool *pool);

#endif
