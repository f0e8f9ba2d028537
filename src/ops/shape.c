/* Shape ops: Flatten, Reshape, Identity, Dropout (inference: identity), Squeeze, Unsqueeze,
 * Expand, and the shape-subgraph ops Shape, Size, ConstantOfShape, Range, Cast, CastLike. The
 * views copy for now (the memory planner may alias them later). Shape-like inputs (Reshape's
 * target, Unsqueeze's axes, Expand's shape, ...) are read at reshape time from data known at
 * plan time (see runtime/extractor.c). */
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

static void copy_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  size_t bytes = ofx_tensor_numel(&in[0]) * ofx_dtype_size(in[0].dtype);
  if (out[0].data != in[0].data && bytes) memmove(out[0].data, in[0].data, bytes);
}

static ofx_status any_input0(const ofx_op *op, const ofx_tensor *in) {
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
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

const ofx_op_def ofx_op_identity = {.op_type = "Identity", .kind = OFX_OP_Identity, .init = ofx_op_no_state,
                                    .reshape = identity_reshape, .run = copy_run, .view = true,
                                    .trait_flags = OFX_TRAIT_IDENTITY};

/* Dropout at inference: Y = X, and the optional mask is all true. training_mode (opset 12+
 * input 2) must be absent or a constant false -- or the ratio a constant 0, which drops nothing
 * even in training mode (torchvision's Swin exports its attention dropout that way). */
static ofx_status dropout_init(ofx_op *op) {
  const ofx_value *training = ofx_op_const_input(op, 2);
  if (ofx_op_has_input(op, 2)) {
    bool on = true;
    if (training && training->dtype == OFX_DTYPE_BOOL && training->nbytes == 1) on = *(const uint8_t *)training->data != 0;
    const ofx_value *ratio = ofx_op_const_input(op, 1);
    float r = 1.0f;
    if (ratio && ratio->dtype == OFX_DTYPE_FLOAT32 && ratio->nbytes == sizeof r) memcpy(&r, ratio->data, sizeof r);
    if (on && r != 0.0f)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "training_mode (input 2) must be a constant false: only inference is supported");
  }
  return OFX_OK;
}

static ofx_status dropout_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(identity_reshape(op, in, out));
  if (op->node->n_outputs > 1) {
    out[1] = out[0];
    out[1].dtype = op->opset >= 10 ? OFX_DTYPE_BOOL : in[0].dtype;
  }
  return OFX_OK;
}

static void dropout_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  copy_run(op, in, out, ctx);
  if (op->node->n_outputs > 1 && out[1].data)
    for (size_t i = 0, n = ofx_tensor_numel(&out[1]); i < n; i++) ofx_store_f64(out[1].data, out[1].dtype, i, 1.0);
}

const ofx_op_def ofx_op_dropout = {.op_type = "Dropout", .kind = OFX_OP_Dropout, .init = dropout_init,
                                   .reshape = dropout_reshape, .run = dropout_run, .view = true,
                                   .trait_flags = OFX_TRAIT_TRAIN_ONLY};

static ofx_status flatten_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  int64_t axis_attr;
  int axis;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 1, &axis_attr));
  OFX_TRY(ofx_op_axis(op, "attribute 'axis'", axis_attr, in[0].rank, &axis));
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < in[0].rank; i++) *(i < axis ? &outer : &inner) *= in[0].dims[i];
  out[0].dtype = in[0].dtype;
  out[0].rank = 2;
  out[0].dims[0] = outer;
  out[0].dims[1] = inner;
  return OFX_OK;
}

const ofx_op_def ofx_op_flatten = {.op_type = "Flatten", .kind = OFX_OP_Flatten, .init = ofx_op_no_state,
                                   .reshape = flatten_reshape, .run = copy_run, .view = true};

static ofx_status reshape_init(ofx_op *op) {
  if (op->opset < 5) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "Reshape before opset 5 (shape attribute) is not supported");
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  return OFX_OK;
}

static ofx_status reshape_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  if (op->node->n_inputs < 2 || in[1].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "the target shape (input 1) is missing");
  int64_t target[OFX_MAX_RANK];
  size_t rank;
  OFX_TRY(ofx_read_ints_input(op, in, 1, "shape", target, OFX_MAX_RANK, &rank));
  int64_t allow_zero;
  OFX_TRY(ofx_node_attr_int(op->node, "allowzero", 0, &allow_zero));
  size_t numel = ofx_tensor_numel(&in[0]);
  int infer = -1;
  uint64_t known = 1; /* 64-bit on wasm32 too: the 2^40 bound below must not wrap */
  out[0].dtype = in[0].dtype;
  out[0].rank = (int)rank;
  for (size_t i = 0; i < rank; i++) {
    int64_t d = target[i];
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
    if (d > 0 && known > ((uint64_t)1 << 40) / (uint64_t)d) {
      char sa[96];
      return ofx_op_error(op, OFX_BAD_INPUT, "cannot reshape %s: the target shape has more than 2^40 elements",
                          ofx_shape_str(in[0].dims, in[0].rank, sa, sizeof sa));
    }
    out[0].dims[i] = d;
    known *= (uint64_t)d;
  }
  if (infer >= 0) {
    if (known == 0 || numel % known)
      return ofx_op_error(op, OFX_BAD_INPUT, "cannot infer the -1 dim: %zu elements do not divide by %llu", numel,
                          (unsigned long long)known);
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

const ofx_op_def ofx_op_reshape = {.op_type = "Reshape", .kind = OFX_OP_Reshape, .init = reshape_init,
                                   .reshape = reshape_reshape, .run = copy_run, .view = true};

/* Squeeze/Unsqueeze axes: attribute before opset 13, optional input 1 since. */
static ofx_status read_axes(ofx_op *op, const ofx_tensor *in, int64_t *axes, size_t *n) {
  if (op->opset < 13) return ofx_node_attr_ints(op->node, "axes", axes, OFX_MAX_RANK, n);
  *n = 0;
  if (!ofx_op_has_input(op, 1)) return OFX_OK;
  return ofx_read_ints_input(op, in, 1, "axes", axes, OFX_MAX_RANK, n);
}

static ofx_status axes_init(ofx_op *op) {
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  return OFX_OK;
}

static ofx_status squeeze_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  int64_t axes[OFX_MAX_RANK];
  size_t n;
  OFX_TRY(read_axes(op, in, axes, &n));
  bool drop[OFX_MAX_RANK] = {false};
  for (size_t i = 0; i < n; i++) {
    int a;
    OFX_TRY(ofx_op_axis_strict(op, "axis", axes[i], in[0].rank, &a));
    if (in[0].dims[a] != 1) return ofx_op_error(op, OFX_BAD_INPUT, "cannot squeeze axis %d of size %lld", a, (long long)in[0].dims[a]);
    drop[a] = true;
  }
  out[0].dtype = in[0].dtype;
  out[0].rank = 0;
  for (int i = 0; i < in[0].rank; i++)
    if (!(n ? drop[i] : in[0].dims[i] == 1)) out[0].dims[out[0].rank++] = in[0].dims[i];
  return OFX_OK;
}

const ofx_op_def ofx_op_squeeze = {.op_type = "Squeeze", .kind = OFX_OP_Squeeze, .init = axes_init,
                                   .reshape = squeeze_reshape, .run = copy_run, .view = true};

static ofx_status unsqueeze_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  int64_t axes[OFX_MAX_RANK];
  size_t n;
  OFX_TRY(read_axes(op, in, axes, &n));
  int rank = in[0].rank + (int)n;
  if (n == 0) return ofx_op_error(op, OFX_BAD_MODEL, "axes are required");
  if (rank > OFX_MAX_RANK) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "the output would have rank %d, at most %d is supported", rank, OFX_MAX_RANK);
  bool add[OFX_MAX_RANK] = {false};
  for (size_t i = 0; i < n; i++) {
    int a;
    OFX_TRY(ofx_op_axis_strict(op, "axis", axes[i], rank, &a));
    if (add[a]) return ofx_op_error(op, OFX_BAD_MODEL, "axis %d is repeated", a);
    add[a] = true;
  }
  out[0].dtype = in[0].dtype;
  out[0].rank = rank;
  for (int i = 0, k = 0; i < rank; i++) out[0].dims[i] = add[i] ? 1 : in[0].dims[k++];
  return OFX_OK;
}

const ofx_op_def ofx_op_unsqueeze = {.op_type = "Unsqueeze", .kind = OFX_OP_Unsqueeze, .init = axes_init,
                                     .reshape = unsqueeze_reshape, .run = copy_run, .view = true};

/* Shape (start/end since opset 15) and Size: read only their input's shape. */
typedef struct shape_state {
  int64_t start, end;
} shape_state;

static ofx_status shape_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(shape_state)));
  shape_state *s = op->state;
  ofx_op_mark_input(op, 0, OFX_INPUT_SHAPE_ONLY);
  OFX_TRY(ofx_node_attr_int(op->node, "start", 0, &s->start));
  return ofx_node_attr_int(op->node, "end", INT64_MAX, &s->end);
}

static void shape_range(const shape_state *s, int rank, int64_t *begin, int64_t *end) {
  int64_t b = s->start < 0 ? s->start + rank : s->start, e = s->end < 0 ? s->end + rank : s->end;
  *begin = b < 0 ? 0 : b > rank ? rank : b;
  *end = e < *begin ? *begin : e > rank ? rank : e;
}

static ofx_status shape_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  int64_t b, e;
  shape_range(op->state, in[0].rank, &b, &e);
  out[0].dtype = OFX_DTYPE_INT64;
  out[0].rank = 1;
  out[0].dims[0] = e - b;
  return OFX_OK;
}

static void shape_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  int64_t b, e;
  shape_range(op->state, in[0].rank, &b, &e);
  for (int64_t i = b; i < e; i++) ((int64_t *)out[0].data)[i - b] = in[0].dims[i];
}

const ofx_op_def ofx_op_shape = {.op_type = "Shape", .kind = OFX_OP_Shape, .init = shape_init,
                                 .reshape = shape_reshape, .run = shape_run, .output_type = OFX_OUTPUT_INT64,
                                 .trait_flags = OFX_TRAIT_READS_SHAPE};

static ofx_status size_init(ofx_op *op) {
  ofx_op_mark_input(op, 0, OFX_INPUT_SHAPE_ONLY);
  return OFX_OK;
}

static ofx_status size_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  out[0].dtype = OFX_DTYPE_INT64;
  out[0].rank = 0;
  return OFX_OK;
}

static void size_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  *(int64_t *)out[0].data = (int64_t)ofx_tensor_numel(&in[0]);
}

const ofx_op_def ofx_op_size = {.op_type = "Size", .kind = OFX_OP_Size, .init = size_init, .reshape = size_reshape,
                                .run = size_run, .output_type = OFX_OUTPUT_INT64,
                                .trait_flags = OFX_TRAIT_READS_SHAPE};

/* Expand: broadcast input 0 to a shape (input 1, known at plan time). */
static ofx_status expand_init(ofx_op *op) {
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  return ofx_op_state_new(op, sizeof(ofx_bcast));
}

static ofx_status expand_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  if (op->node->n_inputs < 2 || in[1].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "the shape (input 1) is missing");
  ofx_tensor shape = {OFX_DTYPE_UNDEFINED, 0, {0}, NULL};
  size_t n;
  OFX_TRY(ofx_read_ints_input(op, in, 1, "shape", shape.dims, OFX_MAX_RANK, &n));
  shape.rank = (int)n;
  for (size_t i = 0; i < n; i++)
    if (shape.dims[i] < 0) return ofx_op_error(op, OFX_BAD_MODEL, "the shape has a negative dim");
  const ofx_tensor *t[2] = {&in[0], &shape};
  OFX_TRY(ofx_bcast_init(op, t, 2, op->state, &out[0]));
  out[0].dtype = in[0].dtype;
  return OFX_OK;
}

static void expand_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const ofx_bcast *b = op->state;
  size_t es = ofx_dtype_size(in[0].dtype);
  const char *x = in[0].data;
  char *y = out[0].data;
  OFX_BCAST_FOR(b, memcpy(y + e * es, x + off[0] * es, es));
}

const ofx_op_def ofx_op_expand = {.op_type = "Expand", .kind = OFX_OP_Expand, .init = expand_init,
                                  .reshape = expand_reshape, .run = expand_run,
                                  .trait_flags = OFX_TRAIT_NOT_SHAPE_ARITH};

/* ConstantOfShape: a tensor of the shape in input 0 filled with the 'value' attribute. */
typedef struct fill_state {
  int64_t value[1]; /* the fill element's bytes, aligned for any type */
  ofx_dtype dtype;
} fill_state;

static ofx_status constant_of_shape_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(fill_state)));
  fill_state *s = op->state;
  ofx_op_mark_input(op, 0, OFX_INPUT_PLAN);
  s->dtype = OFX_DTYPE_FLOAT32;
  ofx_attr_tensor t;
  OFX_TRY(ofx_node_attr_tensor(op->node, "value", &t, NULL, 0));
  if (t.rank < 0) return OFX_OK;
  size_t es = ofx_dtype_size(t.dtype);
  if (es == 0 || es > sizeof s->value)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'value' must be a one-element tensor of a supported type");
  if (t.numel != 1) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'value' must have one element");
  s->dtype = t.dtype;
  OFX_TRY(ofx_node_attr_tensor(op->node, "value", &t, s->value, sizeof s->value));
  if (ofx_dtype_is_half(t.dtype)) { /* computed as float32 */
    uint16_t h;
    memcpy(&h, s->value, sizeof h);
    float f = t.dtype == OFX_DTYPE_BFLOAT16 ? ofx_bf16_to_f32(h) : ofx_f16_to_f32(h);
    memcpy(s->value, &f, sizeof f);
    s->dtype = OFX_DTYPE_FLOAT32;
  }
  return OFX_OK;
}

static ofx_status constant_of_shape_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  const fill_state *s = op->state;
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  size_t n;
  OFX_TRY(ofx_read_ints_input(op, in, 0, "shape", out[0].dims, OFX_MAX_RANK, &n));
  for (size_t i = 0; i < n; i++)
    if (out[0].dims[i] < 0) return ofx_op_error(op, OFX_BAD_MODEL, "the shape has a negative dim");
  out[0].rank = (int)n;
  out[0].dtype = s->dtype;
  return OFX_OK;
}

static void constant_of_shape_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const fill_state *s = op->state;
  size_t es = ofx_dtype_size(s->dtype);
  for (size_t i = 0, n = ofx_tensor_numel(&out[0]); i < n; i++) memcpy((char *)out[0].data + i * es, s->value, es);
}

const ofx_op_def ofx_op_constant_of_shape = {.op_type = "ConstantOfShape", .kind = OFX_OP_ConstantOfShape,
                                             .init = constant_of_shape_init, .reshape = constant_of_shape_reshape,
                                             .run = constant_of_shape_run, .output_type = OFX_OUTPUT_VALUE_ATTR};

/* Range(start, limit, delta): scalars known at plan time (the length depends on them). */
static ofx_status range_init(ofx_op *op) {
  for (size_t k = 0; k < 3; k++) ofx_op_mark_input(op, k, OFX_INPUT_PLAN);
  return OFX_OK;
}

static ofx_status range_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  for (size_t k = 0; k < 3; k++) {
    if (k >= op->node->n_inputs || in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
    if (in[k].dtype != in[0].dtype || ofx_tensor_numel(&in[k]) != 1)
      return ofx_op_error(op, OFX_BAD_MODEL, "inputs must be scalars of one type");
    if (in[k].data == NULL)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu must be known when planning (a constant or computed from shapes)", k);
  }
  ofx_dtype t = in[0].dtype;
  if (t != OFX_DTYPE_FLOAT32 && t != OFX_DTYPE_INT64 && t != OFX_DTYPE_INT32 && t != OFX_DTYPE_INT16 && t != OFX_DTYPE_DOUBLE)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "type %s is not supported", onnx_dtype_name((int32_t)t));
  double start = ofx_load_f64(in[0].data, t, 0), limit = ofx_load_f64(in[1].data, t, 0), delta = ofx_load_f64(in[2].data, t, 0);
  if (delta == 0 || !(start == start) || !(limit == limit)) return ofx_op_error(op, OFX_BAD_INPUT, "delta must be non-zero");
  double n = ceil((limit - start) / delta);
  if (n > (double)(1 << 30)) return ofx_op_error(op, OFX_BAD_INPUT, "the range has too many elements");
  out[0].dtype = t;
  out[0].rank = 1;
  out[0].dims[0] = n > 0 ? (int64_t)n : 0;
  return OFX_OK;
}

static void range_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  ofx_dtype t = out[0].dtype;
  if (ofx_dtype_is_int(t)) {
    int64_t start = ofx_load_i64(in[0].data, t, 0), delta = ofx_load_i64(in[2].data, t, 0);
    for (int64_t i = 0; i < out[0].dims[0]; i++) ofx_store_i64(out[0].data, t, (size_t)i, ofx_i64_add_wrap(start, ofx_i64_mul_wrap(i, delta)));
  } else {
    double start = ofx_load_f64(in[0].data, t, 0), delta = ofx_load_f64(in[2].data, t, 0);
    float fs = (float)start, fd = (float)delta;
    for (int64_t i = 0; i < out[0].dims[0]; i++)
      ofx_store_f64(out[0].data, t, (size_t)i, t == OFX_DTYPE_FLOAT32 ? (double)(fs + (float)i * fd) : start + (double)i * delta);
  }
}

const ofx_op_def ofx_op_range = {.op_type = "Range", .kind = OFX_OP_Range, .init = range_init,
                                 .reshape = range_reshape, .run = range_run};

/* Cast / CastLike between the numeric types (strings are not supported). float16 and bfloat16
 * values are computed as float32 (base/half.h): a Cast to either rounds to its precision and
 * stores float32; a Cast from either reads the float32 it is held in. */
static ofx_status cast_init(ofx_op *op) {
  if (op->def->kind == OFX_OP_CastLike) return OFX_OK;
  int64_t to;
  OFX_TRY(ofx_node_attr_int(op->node, "to", 0, &to));
  if (!ofx_dtype_is_numeric((int)to) && !ofx_dtype_is_half((ofx_dtype)to))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'to' is %s, which is not supported", onnx_dtype_name((int32_t)to));
  OFX_TRY(ofx_op_state_new(op, sizeof(ofx_dtype)));
  *(ofx_dtype *)op->state = (ofx_dtype)to;
  return OFX_OK;
}

static ofx_status cast_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input0(op, in));
  ofx_dtype to;
  if (op->state) {
    to = *(const ofx_dtype *)op->state;
  } else {
    if (op->node->n_inputs < 2 || in[1].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 1 is missing");
    to = in[1].dtype;
  }
  if (!ofx_dtype_is_numeric(in[0].dtype) || !ofx_dtype_is_numeric(ofx_compute_dtype(to)))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "casting %s to %s is not supported", onnx_dtype_name((int32_t)in[0].dtype),
                        onnx_dtype_name((int32_t)to));
  out[0] = in[0];
  out[0].data = NULL;
  out[0].dtype = ofx_compute_dtype(to);
  return OFX_OK;
}

static void cast_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  size_t n = ofx_tensor_numel(&in[0]);
  ofx_dtype from = in[0].dtype, to = out[0].dtype;
  ofx_dtype target = op->state ? *(const ofx_dtype *)op->state : to;
  if (ofx_dtype_is_half(target)) {
    float *y = out[0].data;
    for (size_t i = 0; i < n; i++) {
      float x = (float)ofx_load_f64(in[0].data, from, i);
      y[i] = target == OFX_DTYPE_BFLOAT16 ? ofx_bf16_round(x) : ofx_f16_round(x);
    }
  } else if (ofx_dtype_is_int(from) && ofx_dtype_is_int(to) && to != OFX_DTYPE_BOOL)
    for (size_t i = 0; i < n; i++) ofx_store_i64(out[0].data, to, i, ofx_load_i64(in[0].data, from, i));
  else
    for (size_t i = 0; i < n; i++) ofx_store_f64(out[0].data, to, i, ofx_load_f64(in[0].data, from, i));
}

const ofx_op_def ofx_op_cast = {.op_type = "Cast", .kind = OFX_OP_Cast, .init = cast_init, .reshape = cast_reshape,
                                .run = cast_run, .output_type = OFX_OUTPUT_TO_ATTR};
const ofx_op_def ofx_op_cast_like = {.op_type = "CastLike", .kind = OFX_OP_CastLike, .init = cast_init,
                                     .reshape = cast_reshape, .run = cast_run, .output_type = OFX_OUTPUT_LIKE_INPUT1};
