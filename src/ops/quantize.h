/* Quantization parameters as the 8-bit ops read them (quantize.c, integer-product.c). */
#ifndef OFX_OPS_QUANTIZE_H
#define OFX_OPS_QUANTIZE_H

#include "ops/op.h"

static inline bool ofx_is_8bit(ofx_dtype t) { return t == OFX_DTYPE_UINT8 || t == OFX_DTYPE_INT8; }

/* v rounded already, clamped to type t's range (uint8, int8 or int32). */
int32_t ofx_quant_saturate(double v, ofx_dtype t);

/* Element i of a per-tensor (one element) or per-axis parameter; 0 for an absent zero point. */
float ofx_quant_param_f32(const ofx_tensor *t, size_t i);
int32_t ofx_quant_param_i32(const ofx_tensor *t, size_t i);

/* Input k, or an absent tensor (rank -1: a zero point of 0) when the node has no input k. */
const ofx_tensor *ofx_quant_optional_input(const ofx_op *op, const ofx_tensor *in, size_t k);

/* Checks a scale (input k) and its zero point (input z, may be absent): per tensor, or 1-D with
 * `channels` elements (channels 0: per tensor only); scales positive and finite when known. */
ofx_status ofx_quant_check_params(const ofx_op *op, const ofx_tensor *in, size_t k, size_t z, size_t channels, bool zp_8bit);

/* .fuse_quantized of Conv and MatMul (integer-product.c). */
bool ofx_q8_fuse_quantized(ofx_op *op, const ofx_quantized_operands *q);

#endif
