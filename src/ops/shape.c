/* Ops that only change how data is viewed: Flatten, Reshape, Identity. They copy for now; the
 * memory planner may alias them later. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"

static ofx_status no_state_init(ofx_op *op) { return OFX_OK; }

static void copy_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  size_t bytes = ofx_tensor_numel(&in[0]) * ofx_dtype_size(in[0].dtype);
  if (out[0].data != in[0].data && bytes) memmove(out[0].data, in[0].data, bytes);
}

static ofx_status any_input0(const ofx_op *op, const ofx_tensor *in) {
  if (in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  if (ofx_dtype_size(in[0].dtype) == 0)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s, which is not supported",
                        onnx_dtype_name((int32_t)in[0].dtype));
  return OFX_OK;
}

static ofx_status identity_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

const ofx_op_def ofx_op_identity = {"Identity", no_state_init, identity_reshape, copy_run, NULL};

static ofx_status flatten_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  int64_t axis_attr;
  int axis;
  OFX_TRY(ofx_attr_int(op, "axis", 1, &axis_attr));
  OFX_TRY(ofx_op_axis(op, "attribute 'axis'", axis_attr, in[0].rank, &axis));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < in[0].rank; i++) *(i < axis ? &outer : &inner) *= in[0].dims[i];
  out[0].dtype = in[0].dtype;
  out[0].rank = 2;
  out[0].dims[0] = outer;
  out[0].dims[1] = inner;
  return OFX_OK;
}

const ofx_op_def ofx_op_flatten = {"Flatten", no_state_init, flatten_reshape, copy_run, NULL};

static ofx_status reshape_init(ofx_op *op) {
  if (ofx_op_const_input(op, 1) == NULL)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "the target shape (input 1) must be a constant");
  op->packed_inputs |= 1u << 1; /* read at reshape time only */
  return OFX_OK;
}

static ofx_status reshape_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  const ofx_value *shape = ofx_op_const_input(op, 1);
  if (shape->dtype != OFX_DTYPE_INT64 || shape->rank != 1)
    return ofx_op_error(op, OFX_BAD_MODEL, "the target shape must be a 1-D int64 tensor");
  size_t rank = shape->nbytes / sizeof(int64_t);
  if (rank > OFX_MAX_RANK)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "the target shape has rank %zu, at most %d is supported", rank, OFX_MAX_RANK);
  int64_t allow_zero;
  OFX_TRY(ofx_attr_int(op, "allowzero", 0, &allow_zero));
  size_t numel = ofx_tensor_numel(&in[0]);
  int infer = -1;
  size_t known = 1;
  out[0].dtype = in[0].dtype;
  out[0].rank = (int)rank;
  for (size_t i = 0; i < rank; i++) {
    int64_t d;
    memcpy(&d, (const char *)shape->data + i * sizeof d, sizeof d);
    if (d == 0 && !allow_zero) {
      if ((int)i >= in[0].rank)
        return ofx_op_error(op, OFX_BAD_INPUT, "target dim %zu is 0 (copy) but the input has rank %d", i, in[0].rank);
      d = in[0].dims[i];
    }
    if (d == -1) {
      if (infer >= 0) return ofx_op_error(op, OFX_BAD_MODEL, "the target shape has more than one -1");
      infer = (int)i;
      continue;
    }
    if (d < 0) return ofx_op_error(op, OFX_BAD_MODEL, "the target shape has a negative dim %lld", (long long)d);
    out[0].dims[i] = d;
    known *= (size_t)d;
  }
  if (infer >= 0) {
    if (known == 0 || numel % known)
      return ofx_op_error(op, OFX_BAD_INPUT, "cannot infer the -1 dim: %zu elements do not divide by %zu", numel, known);
    out[0].dims[infer] = (int64_t)(numel / known);
    known = numel;
  }
  if (known != numel) {
    char sa[96], sb[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "cannot reshape %s into %s",
                        ofx_shape_str(in[0].dims, in[0].rank, sa, sizeof sa),
                        ofx_shape_str(out[0].dims, out[0].rank, sb, sizeof sb));
  }
  return OFX_OK;
}

const ofx_op_def ofx_op_reshape = {"Reshape", reshape_init, reshape_reshape, copy_run, NULL};
