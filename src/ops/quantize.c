/* ONNX's 8-bit quantization ops: QuantizeLinear, DequantizeLinear (per tensor or per axis) and
 * DynamicQuantizeLinear, exactly as ONNX defines them: rounding half to even, saturation. The
 * ops that multiply 8-bit values are in integer-product.c. Scales must be positive and finite,
 * zero points in their type's range, per-axis parameters as long as the axis: each checked
 * where it is known (init for constants, reshape for data known at plan time) with an error
 * naming the node and input. With per-tensor parameters the three are elementwise, so they run
 * in any layout (OFX_OP_ANY_LAYOUT) and quantized activations stay NHWC between the convolutions
 * that write and read them; per-axis parameters are not layout-neutral, so the layout pass gives
 * those NCHW. */
#include "ops/quantize.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/kernel-config.h"
#include "ops/typed.h"

int32_t ofx_quant_saturate(double v, ofx_dtype t) {
  const double lo = t == OFX_DTYPE_UINT8 ? 0 : t == OFX_DTYPE_INT8 ? -128 : -2147483648.0;
  const double hi = t == OFX_DTYPE_UINT8 ? 255 : t == OFX_DTYPE_INT8 ? 127 : 2147483647.0;
  return (int32_t)(v < lo ? lo : v > hi ? hi : v);
}

float ofx_quant_param_f32(const ofx_tensor *t, size_t i) { return ((const float *)t->data)[ofx_tensor_numel(t) == 1 ? 0 : i]; }
int32_t ofx_quant_param_i32(const ofx_tensor *t, size_t i) {
  if (t->rank < 0) return 0;
  return (int32_t)ofx_load_i64(t->data, t->dtype, ofx_tensor_numel(t) == 1 ? 0 : i);
}

const ofx_tensor *ofx_quant_optional_input(const ofx_op *op, const ofx_tensor *in, size_t k) {
  static const ofx_tensor none = {.rank = -1};
  return k < op->node->n_inputs && op->node->inputs[k] >= 0 ? &in[k] : &none;
}

ofx_status ofx_quant_check_params(const ofx_op *op, const ofx_tensor *in, size_t k, size_t z, size_t channels, bool zp_8bit) {
  const char *scale_name = op->graph->values[op->node->inputs[k]].name;
  if (in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (scale) is missing", k);
  if (in[k].dtype != OFX_DTYPE_FLOAT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "scale '%s' (input %zu) has type %s, only float32 is supported", scale_name, k,
                        onnx_dtype_name((int32_t)in[k].dtype));
  const size_t n = ofx_tensor_numel(&in[k]);
  const bool per_tensor = n == 1 && in[k].rank <= 1;
  if (!per_tensor && !(channels && in[k].rank == 1 && n == channels))
    return ofx_op_error(op, OFX_BAD_MODEL, "scale '%s' (input %zu) has %zu elements: it must be a scalar%s", scale_name, k, n,
                        channels ? " or have one per channel of the quantized axis" : "");
  for (size_t i = 0; in[k].data && i < n; i++) {
    const float s = ((const float *)in[k].data)[i];
    if (!(s > 0) || !isfinite(s))
      return ofx_op_error(op, OFX_BAD_MODEL, "scale '%s' (input %zu) element %zu is %g: scales must be positive and finite",
                          scale_name, k, i, (double)s);
  }
  if (z >= op->node->n_inputs || op->node->inputs[z] < 0 || in[z].rank < 0) return OFX_OK;
  const char *zp_name = op->graph->values[op->node->inputs[z]].name;
  if (zp_8bit ? !ofx_is_8bit(in[z].dtype) : !(ofx_is_8bit(in[z].dtype) || in[z].dtype == OFX_DTYPE_INT32))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "zero point '%s' (input %zu) has type %s: uint8 and int8 are supported", zp_name, z,
                        onnx_dtype_name((int32_t)in[z].dtype));
  if (ofx_tensor_numel(&in[z]) != n || in[z].rank != in[k].rank)
    return ofx_op_error(op, OFX_BAD_MODEL, "zero point '%s' (input %zu) has %zu elements, its scale %zu", zp_name, z,
                        ofx_tensor_numel(&in[z]), n);
  return OFX_OK;
}

/* The quantized axis and the element layout around it: element e is in channel (e / inner) % dim. */
typedef struct axis_state {
  int axis;
  size_t dim, inner;
} axis_state;

/* A one-element scale quantizes per tensor, whatever `axis` says (ONNX ignores it then). */
static ofx_status read_axis(ofx_op *op, const ofx_tensor *x, const ofx_tensor *scale, axis_state *s) {
  int64_t axis;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 1, &axis));
  s->axis = 0, s->dim = 1, s->inner = 1;
  if (x->rank == 0 || (scale->rank >= 0 && ofx_tensor_numel(scale) == 1)) return OFX_OK;
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis, x->rank, &s->axis));
  s->dim = (size_t)x->dims[s->axis];
  for (int d = s->axis + 1; d < x->rank; d++) s->inner *= (size_t)x->dims[d];
  return OFX_OK;
}

static ofx_status axis_init(ofx_op *op) { return ofx_op_state_new(op, sizeof(axis_state)); }

/* QuantizeLinear: y = ofx_quant_saturate(round(x / scale) + zero_point); y has the zero point's type
 * (uint8 without one). */
static ofx_status quantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  axis_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  OFX_TRY(read_axis(op, &in[0], &in[1], s));
  OFX_TRY(ofx_quant_check_params(op, in, 1, 2, s->dim, true));
  out[0] = in[0];
  out[0].dtype = op->node->n_inputs > 2 && in[2].rank >= 0 ? in[2].dtype : OFX_DTYPE_UINT8;
  return OFX_OK;
}

/* Elements with one scale and zero point come in runs: the whole tensor per tensor, `inner`
 * elements per axis; run r is in channel r % dim. */
static size_t run_length(const axis_state *s, size_t n) { return s->dim == 1 ? n : s->inner; }

static void quantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const axis_state *s = op->state;
  const float *x = in[0].data;
  const ofx_tensor *zp = ofx_quant_optional_input(op, in, 2);
  const size_t n = ofx_tensor_numel(&out[0]), len = run_length(s, n);
  for (size_t start = 0, r = 0; len && start < n; start += len, r++) {
    const size_t c = r % s->dim;
    const float scale = ofx_quant_param_f32(&in[1], c);
    const int32_t z = ofx_quant_param_i32(zp, c);
    if (out[0].dtype == OFX_DTYPE_UINT8) { /* the DynamicQuantizeLinear kernel: x / scale, rounded to even, saturated */
      ofx_kernels()->f32_qu8_vcvt(len, x + start, scale, z, (uint8_t *)out[0].data + start);
      continue;
    }
    int8_t *y = (int8_t *)out[0].data + start;
    for (size_t i = 0; i < len; i++) {
      const float q = nearbyintf(x[start + i] / scale) + (float)z;
      y[i] = (int8_t)(q >= -128.0f ? (q <= 127.0f ? q : 127.0f) : -128.0f); /* NaN: -128 */
    }
  }
}

/* DequantizeLinear: y = (x - zero_point) * scale, x uint8, int8 or int32. */
static ofx_status dequantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  axis_state *s = op->state;
  if (in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  if (!ofx_is_8bit(in[0].dtype) && in[0].dtype != OFX_DTYPE_INT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s: uint8, int8 and int32 are supported",
                        onnx_dtype_name((int32_t)in[0].dtype));
  OFX_TRY(read_axis(op, &in[0], &in[1], s));
  OFX_TRY(ofx_quant_check_params(op, in, 1, 2, s->dim, false));
  if (op->node->n_inputs > 2 && in[2].rank >= 0 && in[2].dtype != in[0].dtype)
    return ofx_op_error(op, OFX_BAD_MODEL, "zero point has type %s, input 0 %s", onnx_dtype_name((int32_t)in[2].dtype),
                        onnx_dtype_name((int32_t)in[0].dtype));
  out[0] = in[0];
  out[0].dtype = OFX_DTYPE_FLOAT32;
  return OFX_OK;
}

static void dequantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const axis_state *s = op->state;
  const ofx_tensor *zp = ofx_quant_optional_input(op, in, 2);
  const size_t n = ofx_tensor_numel(&out[0]), len = run_length(s, n);
  for (size_t start = 0, r = 0; len && start < n; start += len, r++) {
    const size_t c = r % s->dim;
    const float scale = ofx_quant_param_f32(&in[1], c);
    const int32_t z = ofx_quant_param_i32(zp, c);
    float *y = (float *)out[0].data + start;
    /* one loop per type, which the compiler vectorizes */
    if (in[0].dtype == OFX_DTYPE_UINT8) {
      const uint8_t *x = (const uint8_t *)in[0].data + start;
      for (size_t i = 0; i < len; i++) y[i] = (float)((int32_t)x[i] - z) * scale;
    } else if (in[0].dtype == OFX_DTYPE_INT8) {
      const int8_t *x = (const int8_t *)in[0].data + start;
      for (size_t i = 0; i < len; i++) y[i] = (float)((int32_t)x[i] - z) * scale;
    } else {
      const int32_t *x = (const int32_t *)in[0].data + start;
      for (size_t i = 0; i < len; i++) y[i] = (float)((int64_t)x[i] - z) * scale;
    }
  }
}

/* DynamicQuantizeLinear: uint8 with the scale and zero point that map [min(x, 0), max(x, 0)]
 * onto [0, 255], in float32 as ONNX specifies it. */
static ofx_status dynamic_quantize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  out[0] = in[0];
  out[0].dtype = OFX_DTYPE_UINT8;
  out[1] = (ofx_tensor){.dtype = OFX_DTYPE_FLOAT32, .rank = 0};
  out[2] = (ofx_tensor){.dtype = OFX_DTYPE_UINT8, .rank = 0};
  return OFX_OK;
}

static void dynamic_quantize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const float *x = in[0].data;
  const size_t n = ofx_tensor_numel(&in[0]);
  float lo = 0, hi = 0;
  if (n) ofx_kernels()->f32_rminmax(n, x, &lo, &hi);
  lo = fminf(lo, 0.0f), hi = fmaxf(hi, 0.0f);
  const float scale = (hi - lo) / 255.0f;
  const int32_t zp = scale > 0 ? ofx_quant_saturate(nearbyintf(0.0f - lo / scale), OFX_DTYPE_UINT8) : 0;
  if (scale > 0) ofx_kernels()->f32_qu8_vcvt(n, x, scale, zp, out[0].data);
  else memset(out[0].data, 0, n);
  if (out[1].data) *(float *)out[1].data = scale;
  if (out[2].data) *(uint8_t *)out[2].data = (uint8_t)zp;
}


const ofx_op_def ofx_op_quantize_linear = {.op_type = "QuantizeLinear", .kind = OFX_OP_QuantizeLinear, .init = axis_init,
                                           .reshape = quantize_reshape, .run = quantize_run, .input_layout = OFX_OP_ANY_LAYOUT,
                                           .output_type = OFX_OUTPUT_ZERO_POINT, .trait_flags = OFX_TRAIT_QUANT_HELPER};
const ofx_op_def ofx_op_dequantize_linear = {.op_type = "DequantizeLinear", .kind = OFX_OP_DequantizeLinear, .init = axis_init,
                                             .reshape = dequantize_reshape, .run = dequantize_run, .input_layout = OFX_OP_ANY_LAYOUT,
                                             .output_type = OFX_OUTPUT_FLOAT32,
                                             .trait_flags = OFX_TRAIT_QUANT_HELPER};
const ofx_op_def ofx_op_dynamic_quantize_linear = {.op_type = "DynamicQuantizeLinear", .kind = OFX_OP_DynamicQuantizeLinear,
                                                   .init = ofx_op_no_state, .reshape = dynamic_quantize_reshape,
                                                   .run = dynamic_quantize_run, .input_layout = OFX_OP_ANY_LAYOUT,
                                                   .output_type = OFX_OUTPUT_DYNAMIC_QUANTIZED, .trait_flags = OFX_TRAIT_QUANT_HELPER};
