/* Elementwise ops: Add, Sub, Mul, Div with multidirectional (numpy) broadcasting, and the
 * activations Relu, Clip, Sigmoid. float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/f32-vbinary/f32-vbinary.h"
#include "kernels/f32-vunary/f32-vunary.h"
#include "ops/op.h"

/* Broadcast plan: output axes merged wherever both operands stay contiguous or stay broadcast
 * across them, so same-shape operands become one long vector and NCHW + [C,1,1] becomes rows. */
typedef struct binary_state {
  int rank;
  int64_t dims[OFX_MAX_RANK];
  int64_t a_strides[OFX_MAX_RANK], b_strides[OFX_MAX_RANK];
  ofx_f32_vbinary_fn vv, vc, rvc;
} binary_state;

static ofx_status binary_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  binary_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  OFX_TRY(ofx_op_check_input(op, in, 1, OFX_DTYPE_FLOAT32, -1));
  const ofx_tensor *a = &in[0], *b = &in[1];
  int rank = a->rank > b->rank ? a->rank : b->rank;
  int64_t da[OFX_MAX_RANK], db[OFX_MAX_RANK];
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = rank;
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    da[i] = ia >= 0 ? a->dims[ia] : 1;
    db[i] = ib >= 0 ? b->dims[ib] : 1;
    if (da[i] != db[i] && da[i] != 1 && db[i] != 1) {
      char sa[96], sb[96];
      return ofx_op_error(op, OFX_BAD_INPUT, "shapes %s and %s cannot be broadcast together",
                          ofx_shape_str(a->dims, a->rank, sa, sizeof sa),
                          ofx_shape_str(b->dims, b->rank, sb, sizeof sb));
    }
    out[0].dims[i] = da[i] == 1 ? db[i] : da[i];
  }
  /* merge axes: kind 0 = both vary, 1 = a broadcast, 2 = b broadcast, 3 = both broadcast */
  s->rank = 0;
  int prev_kind = -1;
  for (int i = 0; i < rank; i++) {
    int64_t d = out[0].dims[i];
    if (d == 1) continue;
    int kind = (da[i] == 1 ? 1 : 0) | (db[i] == 1 ? 2 : 0);
    if (kind == prev_kind) {
      s->dims[s->rank - 1] *= d;
    } else {
      s->dims[s->rank] = d;
      s->a_strides[s->rank] = kind & 1 ? 0 : 1;
      s->b_strides[s->rank] = kind & 2 ? 0 : 1;
      s->rank++;
      prev_kind = kind;
    }
  }
  if (s->rank == 0) {
    s->rank = 1;
    s->dims[0] = 1;
    s->a_strides[0] = s->b_strides[0] = 1;
  }
  /* turn the 0/1 flags into element strides, innermost first */
  int64_t sa = 1, sb = 1;
  for (int i = s->rank - 1; i >= 0; i--) {
    bool a_varies = s->a_strides[i] != 0, b_varies = s->b_strides[i] != 0;
    s->a_strides[i] = a_varies ? sa : 0;
    s->b_strides[i] = b_varies ? sb : 0;
    if (a_varies) sa *= s->dims[i];
    if (b_varies) sb *= s->dims[i];
  }
  return OFX_OK;
}

static void binary_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const binary_state *s = op->state;
  const float *a = in[0].data, *b = in[1].data;
  float *y = out[0].data;
  const int last = s->rank - 1;
  const size_t n = (size_t)s->dims[last];
  const bool a_vec = s->a_strides[last] != 0, b_vec = s->b_strides[last] != 0;
  size_t outer = 1;
  for (int i = 0; i < last; i++) outer *= (size_t)s->dims[i];
  int64_t index[OFX_MAX_RANK] = {0};
  for (size_t o = 0; o < outer; o++) {
    int64_t ao = 0, bo = 0;
    for (int i = 0; i < last; i++) {
      ao += index[i] * s->a_strides[i];
      bo += index[i] * s->b_strides[i];
    }
    float *dst = y + o * n;
    if (a_vec && b_vec) s->vv(n, a + ao, b + bo, dst);
    else if (a_vec) s->vc(n, a + ao, b + bo, dst);
    else if (b_vec) s->rvc(n, a + ao, b + bo, dst);
    else {
      s->vc(1, a + ao, b + bo, dst);
      for (size_t i = 1; i < n; i++) dst[i] = dst[0];
    }
    for (int i = last - 1; i >= 0; i--) {
      if (++index[i] < s->dims[i]) break;
      index[i] = 0;
    }
  }
}

#define DEFINE_BINARY(op_name, fn)                                                      \
  static ofx_status fn##_init(ofx_op *op) {                                             \
    binary_state *s = calloc(1, sizeof *s);                                             \
    if (s == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");         \
    s->vv = ofx_f32_v##fn##__scalar;                                                    \
    s->vc = ofx_f32_v##fn##c__scalar;                                                   \
    s->rvc = ofx_f32_vr##fn##c__scalar;                                                 \
    op->state = s;                                                                      \
    return OFX_OK;                                                                      \
  }                                                                                     \
  const ofx_op_def ofx_op_##fn = {op_name, fn##_init, binary_reshape, binary_run, NULL};

DEFINE_BINARY("Add", add)
DEFINE_BINARY("Sub", sub)
DEFINE_BINARY("Mul", mul)
DEFINE_BINARY("Div", div)

/* Unary activations: one state holding the clamp bounds (Relu and Clip are both clamps). */
typedef struct unary_state {
  float min, max;
} unary_state;

static ofx_status unary_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

static ofx_status relu_init(ofx_op *op) {
  unary_state *s = calloc(1, sizeof *s);
  if (s == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
  s->min = 0.0f;
  s->max = INFINITY;
  op->state = s;
  return OFX_OK;
}

static void clamp_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const unary_state *s = op->state;
  ofx_f32_vclamp__scalar(ofx_tensor_numel(&in[0]), in[0].data, out[0].data, s->min, s->max);
}

const ofx_op_def ofx_op_relu = {"Relu", relu_init, unary_reshape, clamp_run, NULL};

/* Clip bounds: attributes before opset 11, optional constant scalar inputs since. */
static ofx_status clip_bound(ofx_op *op, size_t k, float *out) {
  if (!ofx_op_has_input(op, k)) return OFX_OK;
  const ofx_value *v = ofx_op_const_input(op, k);
  if (v == NULL) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu (%s) must be a constant", k, k == 1 ? "min" : "max");
  if (v->dtype != OFX_DTYPE_FLOAT32 || v->nbytes != sizeof(float))
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be a float32 scalar", k, k == 1 ? "min" : "max");
  memcpy(out, v->data, sizeof *out);
  return OFX_OK;
}

static ofx_status clip_init(ofx_op *op) {
  unary_state *s = calloc(1, sizeof *s);
  if (s == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
  op->state = s;
  s->min = -INFINITY;
  s->max = INFINITY;
  if (op->opset < 11) {
    OFX_TRY(ofx_attr_float(op, "min", -INFINITY, &s->min));
    OFX_TRY(ofx_attr_float(op, "max", INFINITY, &s->max));
  } else {
    OFX_TRY(clip_bound(op, 1, &s->min));
    OFX_TRY(clip_bound(op, 2, &s->max));
    op->packed_inputs |= (1u << 1) | (1u << 2);
  }
  return OFX_OK;
}

const ofx_op_def ofx_op_clip = {"Clip", clip_init, unary_reshape, clamp_run, NULL};

static ofx_status no_state_init(ofx_op *op) { return OFX_OK; }

static void sigmoid_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  ofx_f32_vsigmoid__scalar(ofx_tensor_numel(&in[0]), in[0].data, out[0].data);
}

const ofx_op_def ofx_op_sigmoid = {"Sigmoid", no_state_init, unary_reshape, sigmoid_run, NULL};
