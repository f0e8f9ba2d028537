/* Elementwise ops with multidirectional (numpy) broadcasting: arithmetic (Add, Sub, Mul, Div,
 * Pow, Mod, PRelu), variadic Sum/Mean/Max/Min, comparisons and logic (bool results), Where,
 * and the activations Relu, Clip, Sigmoid. float32 same-type arithmetic uses the vector
 * kernels; everything else (int64 shape arithmetic, mixed Pow, masks) a typed loop. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/elementwise-driver.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef enum binary_kind {
  B_ADD, B_SUB, B_MUL, B_DIV, B_POW, B_MOD, B_MAX, B_MIN, B_PRELU,
  B_EQUAL, B_LESS, B_GREATER, B_LESS_EQUAL, B_GREATER_EQUAL, B_AND, B_OR, B_XOR,
} binary_kind;

/* Broadcast plan: output axes merged wherever both operands stay contiguous or stay broadcast
 * across them, so same-shape operands become one long vector and NCHW + [C,1,1] becomes rows. */
typedef struct binary_state {
  binary_kind kind;
  bool fast; /* float32 Add/Sub/Mul/Div through the kernels */
  /* Pow with a constant scalar exponent 2 or 0.5 on float32: x*x / sqrt(x), vectorized (ViT's
   * LayerNorm, exported as ReduceMean-Sub-Pow-...) */
  float pow_exponent; /* 0: none */
  bool fast_pow;
  int64_t fmod;
  int rank;
  int64_t dims[OFX_MAX_RANK];
  int64_t a_strides[OFX_MAX_RANK], b_strides[OFX_MAX_RANK];
  ofx_f32_vbinary_fn vv, vc, rvc;
  ofx_bcast bcast; /* the typed loop's plan */
  ofx_dtype a_type, b_type, out_type;
  /* a Relu or Clip after it, fused (ResNet's residual Add -> Relu): applied to each chunk while
   * it is still in cache */
  bool clamp;
  float min, max;
} binary_state;

static void fast_plan(binary_state *s, const ofx_tensor *a, const ofx_tensor *b, const ofx_tensor *out) {
  int rank = out->rank;
  int64_t da[OFX_MAX_RANK], db[OFX_MAX_RANK];
  for (int i = 0; i < rank; i++) {
    int ia = i - (rank - a->rank), ib = i - (rank - b->rank);
    da[i] = ia >= 0 ? a->dims[ia] : 1;
    db[i] = ib >= 0 ? b->dims[ib] : 1;
  }
  /* merge axes: kind 0 = both vary, 1 = a broadcast, 2 = b broadcast, 3 = both broadcast */
  s->rank = 0;
  int prev_kind = -1;
  for (int i = 0; i < rank; i++) {
    int64_t d = out->dims[i];
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
}

static ofx_status binary_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  binary_state *s = op->state;
  for (size_t k = 0; k < 2; k++) {
    if (k >= op->node->n_inputs || in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
    if (!ofx_dtype_is_numeric(in[k].dtype))
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu has type %s, which is not supported", k,
                          onnx_dtype_name((int32_t)in[k].dtype));
  }
  bool logic = s->kind >= B_AND, compare = s->kind >= B_EQUAL && !logic;
  if (logic && (in[0].dtype != OFX_DTYPE_BOOL || in[1].dtype != OFX_DTYPE_BOOL))
    return ofx_op_error(op, OFX_BAD_MODEL, "inputs must be bool");
  if (s->kind != B_POW && in[0].dtype != in[1].dtype)
    return ofx_op_error(op, OFX_BAD_MODEL, "inputs have different types (%s and %s)", onnx_dtype_name((int32_t)in[0].dtype),
                        onnx_dtype_name((int32_t)in[1].dtype));
  if (s->kind == B_MOD && !s->fmod && !ofx_dtype_is_int(in[0].dtype))
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'fmod' must be 1 for floating-point inputs");
  const ofx_tensor *t[2] = {&in[0], &in[1]};
  /* NHWC operands: broadcast over their physical (N,H,W,C) shapes; the planner only mixes them
   * with layout-neutral operands, whose memory reads the same in either order */
  ofx_tensor physical[2], physical_out = {0};
  bool nhwc = (in[0].rank == 4 && in[0].layout == OFX_LAYOUT_NHWC) || (in[1].rank == 4 && in[1].layout == OFX_LAYOUT_NHWC);
  if (nhwc) {
    for (size_t k = 0; k < 2; k++) {
      physical[k] = in[k];
      int64_t d[4] = {1, 1, 1, 1};
      for (int i = 0; i < in[k].rank; i++) d[4 - in[k].rank + i] = in[k].dims[i];
      physical[k].rank = 4;
      physical[k].dims[0] = d[0], physical[k].dims[1] = d[2], physical[k].dims[2] = d[3], physical[k].dims[3] = d[1];
      t[k] = &physical[k];
    }
  }
  ofx_tensor *o = nhwc ? &physical_out : &out[0];
  OFX_TRY(ofx_bcast_init(op, t, 2, &s->bcast, o));
  s->a_type = in[0].dtype;
  s->b_type = in[1].dtype;
  s->out_type = o->dtype = logic || compare ? OFX_DTYPE_BOOL : in[0].dtype;
  s->fast = s->kind <= B_DIV && in[0].dtype == OFX_DTYPE_FLOAT32 && in[1].dtype == OFX_DTYPE_FLOAT32;
  if (s->fast) fast_plan(s, t[0], t[1], o);
  /* x and the output have the same elements in the same order: the exponent is one value */
  s->fast_pow = s->pow_exponent != 0 && in[0].dtype == OFX_DTYPE_FLOAT32;
  if (nhwc) {
    out[0] = physical_out;
    out[0].dims[1] = physical_out.dims[3], out[0].dims[2] = physical_out.dims[1], out[0].dims[3] = physical_out.dims[2];
    out[0].layout = OFX_LAYOUT_NHWC;
  }
  return OFX_OK;
}

/* Output elements [start, start + count) of the fast plan: rows of the innermost merged axis
 * through the vector kernels, the first and last row possibly partial. */
static void fast_range(const binary_state *s, const float *a, const float *b, float *y, size_t start, size_t count) {
  const int last = s->rank - 1;
  const size_t n = (size_t)s->dims[last];
  const bool a_vec = s->a_strides[last] != 0, b_vec = s->b_strides[last] != 0;
  size_t row = start / n, col = start % n;
  int64_t index[OFX_MAX_RANK] = {0};
  for (int i = last - 1; i >= 0; i--) {
    index[i] = (int64_t)(row % (size_t)s->dims[i]);
    row /= (size_t)s->dims[i];
  }
  for (size_t end = start + count; start < end; col = 0) {
    const size_t len = ofx_min_sz(n - col, end - start);
    int64_t ao = 0, bo = 0;
    for (int i = 0; i < last; i++) {
      ao += index[i] * s->a_strides[i];
      bo += index[i] * s->b_strides[i];
    }
    const float *ar = a + ao + (a_vec ? col : 0), *br = b + bo + (b_vec ? col : 0);
    float *dst = y + start;
    if (a_vec && b_vec) s->vv(len, ar, br, dst);
    else if (a_vec) s->vc(len, ar, br, dst);
    else if (b_vec) s->rvc(len, ar, br, dst);
    else {
      s->vc(1, ar, br, dst);
      for (size_t i = 1; i < len; i++) dst[i] = dst[0];
    }
    start += len;
    for (int i = last - 1; i >= 0; i--) {
      if (++index[i] < s->dims[i]) break;
      index[i] = 0;
    }
  }
}

typedef struct fast_job {
  const binary_state *s;
  const float *a, *b;
  float *y;
} fast_job;

static void fast_chunk(void *ctx, size_t start, size_t count) {
  const fast_job *g = ctx;
  fast_range(g->s, g->a, g->b, g->y, start, count);
  if (g->s->clamp) ofx_kernels()->f32_vclamp(count, g->y + start, g->y + start, g->s->min, g->s->max);
}

/* The fused clamp on the typed path's output; integers compared exactly (Relu on int64). */
static void clamp_typed(const binary_state *s, void *z, size_t n) {
  for (size_t e = 0; e < n; e++) {
    if (ofx_dtype_is_int(s->out_type)) {
      int64_t v = ofx_load_i64(z, s->out_type, e);
      if ((double)v < s->min) v = (int64_t)ceil(s->min);
      else if ((double)v > s->max) v = (int64_t)floor(s->max);
      ofx_store_i64(z, s->out_type, e, v);
    } else {
      ofx_store_f64(z, s->out_type, e, fmin(fmax(ofx_load_f64(z, s->out_type, e), s->min), s->max));
    }
  }
}

/* Add, Sub, Mul, Div take a Relu or Clip after them (fuse pass): the clamp runs on each chunk. */
static bool binary_fuse_activation(ofx_op *op, const ofx_activation *act) {
  binary_state *s = op->state;
  if (act->kind != OFX_ACTIVATION_CLAMP || s->fast_pow) return false;
  s->min = s->clamp ? fmaxf(s->min, act->min) : act->min;
  s->max = s->clamp ? fminf(s->max, act->max) : act->max;
  s->clamp = true;
  return true;
}

static void pow_chunk(void *ctx, size_t start, size_t count) {
  const fast_job *g = ctx;
  if (g->s->pow_exponent == 2.0f) ofx_kernels()->f32_vmul(count, g->a + start, g->a + start, g->y + start);
  else ofx_kernels()->f32_vsqrt(count, g->a + start, g->y + start);
}

static int64_t int_binary(binary_kind kind, int64_t x, int64_t y, bool fmod_mode) {
  switch (kind) {
    case B_ADD: return ofx_i64_add_wrap(x, y);
    case B_SUB: return ofx_i64_sub_wrap(x, y);
    case B_MUL: return ofx_i64_mul_wrap(x, y);
    case B_DIV: return y == 0 || (x == INT64_MIN && y == -1) ? 0 : x / y;
    case B_MOD: {
      if (y == 0 || (x == INT64_MIN && y == -1)) return 0;
      int64_t r = x % y;
      if (!fmod_mode && r != 0 && ((r < 0) != (y < 0))) r += y; /* sign of the divisor */
      return r;
    }
    case B_POW: {
      int64_t r = 1;
      for (int64_t i = 0; i < y && i < 64; i++) r = ofx_i64_mul_wrap(r, x);
      return y < 0 ? (x == 1 ? 1 : 0) : r;
    }
    case B_MAX: return x > y ? x : y;
    case B_MIN: return x < y ? x : y;
    case B_PRELU: return x < 0 ? ofx_i64_mul_wrap(x, y) : x;
    case B_EQUAL: return x == y;
    case B_LESS: return x < y;
    case B_GREATER: return x > y;
    case B_LESS_EQUAL: return x <= y;
    case B_GREATER_EQUAL: return x >= y;
    case B_AND: return x && y;
    case B_OR: return x || y;
    case B_XOR: return (x != 0) != (y != 0);
  }
  return 0;
}

static double float_binary(binary_kind kind, double x, double y) {
  switch (kind) {
    case B_ADD: return x + y;
    case B_SUB: return x - y;
    case B_MUL: return x * y;
    case B_DIV: return x / y;
    case B_POW: return pow(x, y);
    case B_MOD: return fmod(x, y);
    case B_MAX: return isnan(x) || isnan(y) ? NAN : x > y ? x : y;
    case B_MIN: return isnan(x) || isnan(y) ? NAN : x < y ? x : y;
    case B_PRELU: return x < 0 ? x * y : x;
    case B_EQUAL: return x == y;
    case B_LESS: return x < y;
    case B_GREATER: return x > y;
    case B_LESS_EQUAL: return x <= y;
    case B_GREATER_EQUAL: return x >= y;
    default: return int_binary(kind, x != 0, y != 0, false);
  }
}

static void binary_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const binary_state *s = op->state;
  if (s->fast || s->fast_pow) {
    fast_job g = {s, in[0].data, in[1].data, out[0].data};
    size_t n = 1;
    for (int i = 0; i < out[0].rank; i++) n *= (size_t)out[0].dims[i];
    ofx_parallelize_elements(ctx->pool, n, s->fast ? fast_chunk : pow_chunk, &g);
    return;
  }
  const ofx_bcast *b = &s->bcast;
  const void *x = in[0].data, *y = in[1].data;
  void *z = out[0].data;
  bool ints = ofx_dtype_is_int(s->a_type) && ofx_dtype_is_int(s->b_type);
  if (ints && s->out_type == OFX_DTYPE_INT64 && s->b_type == OFX_DTYPE_INT64 && s->kind <= B_MUL) {
    const int64_t *xi = x, *yi = y; /* shape arithmetic: the common case */
    int64_t *zi = z;
    OFX_BCAST_FOR(b, zi[e] = int_binary(s->kind, xi[off[0]], yi[off[1]], false));
  } else if (ints) {
    OFX_BCAST_FOR(b, ofx_store_i64(z, s->out_type, e,
                                   int_binary(s->kind, ofx_load_i64(x, s->a_type, off[0]), ofx_load_i64(y, s->b_type, off[1]), s->fmod)));
  } else {
    OFX_BCAST_FOR(b, ofx_store_f64(z, s->out_type, e,
                                   float_binary(s->kind, ofx_load_f64(x, s->a_type, off[0]), ofx_load_f64(y, s->b_type, off[1]))));
  }
  if (s->clamp) clamp_typed(s, z, ofx_tensor_numel(&out[0]));
}

static ofx_status binary_make(ofx_op *op, binary_kind kind, ofx_f32_vbinary_fn vv, ofx_f32_vbinary_fn vc,
                              ofx_f32_vbinary_fn rvc) {
  OFX_TRY(ofx_op_state_new(op, sizeof(binary_state)));
  binary_state *s = op->state;
  s->kind = kind;
  s->vv = vv;
  s->vc = vc;
  s->rvc = rvc;
  if (kind == B_MOD) {
    OFX_TRY(ofx_node_attr_int(op->node, "fmod", 0, &s->fmod));
    if (s->fmod != 0 && s->fmod != 1)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'fmod' must be 0 or 1, got %lld", (long long)s->fmod);
  }
  const ofx_value *e = kind == B_POW ? ofx_op_const_input(op, 1) : NULL;
  if (e != NULL && e->dtype == OFX_DTYPE_FLOAT32 && e->nbytes == sizeof(float)) {
    float v;
    memcpy(&v, e->data, sizeof v);
    /* sqrt differs from pow only at -0 and -inf (pow gives +0, +inf); ORT's Pow takes sqrt too */
    if (v == 2.0f || v == 0.5f) s->pow_exponent = v;
  }
  if (op->opset < 7 && ofx_node_has_attr(op->node, "broadcast"))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'broadcast' (opset < 7) is not supported");
  return OFX_OK;
}

/* name: the op's row in op-defs.inc (its .op_type and .kind); math: its binary_kind; trailing
 * arguments are more fields of the definition. */
#define DEFINE_FAST_BINARY(name, fn, math, ...)                                                            \
  static ofx_status fn##_init(ofx_op *op) {                                                                \
    const ofx_kernel_config *k = ofx_kernels();                                                            \
    return binary_make(op, math, k->f32_v##fn, k->f32_v##fn##c, k->f32_vr##fn##c);                         \
  }                                                                                                        \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init,             \
                                  .reshape = binary_reshape, .run = binary_run,                            \
                                  .input_layout = OFX_OP_ANY_LAYOUT, .in_place = true,                     \
                                  .fuse_activation = binary_fuse_activation, __VA_ARGS__};

DEFINE_FAST_BINARY(Add, add, B_ADD)
DEFINE_FAST_BINARY(Sub, sub, B_SUB)
DEFINE_FAST_BINARY(Mul, mul, B_MUL)
DEFINE_FAST_BINARY(Div, div, B_DIV, .torch_name = "truediv")

/* The same without a fast kernel. */
#define DEFINE_BINARY(name, fn, math, ...)                                                         \
  static ofx_status fn##_init(ofx_op *op) { return binary_make(op, math, NULL, NULL, NULL); }     \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init,     \
                                  .reshape = binary_reshape, .run = binary_run,                   \
                                  .input_layout = OFX_OP_ANY_LAYOUT, __VA_ARGS__};

DEFINE_BINARY(Pow, pow, B_POW)
DEFINE_BINARY(Mod, mod, B_MOD)
DEFINE_BINARY(PRelu, prelu, B_PRELU)
DEFINE_BINARY(Equal, equal, B_EQUAL, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(Less, less, B_LESS, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(Greater, greater, B_GREATER, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(LessOrEqual, less_or_equal, B_LESS_EQUAL, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(GreaterOrEqual, greater_or_equal, B_GREATER_EQUAL, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(And, and, B_AND, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(Or, or, B_OR, .output_type = OFX_OUTPUT_BOOL)
DEFINE_BINARY(Xor, xor, B_XOR, .output_type = OFX_OUTPUT_BOOL)

/* Sum, Mean, Max, Min: any number of inputs, all broadcast to one output shape; folded into
 * the output one input at a time. */
typedef struct variadic_state {
  binary_kind kind;
  bool mean;
  ofx_dtype type;
  size_t numel;
  ofx_bcast bcast[]; /* per input: input k -> output */
} variadic_state;

static ofx_status variadic_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  variadic_state *s = op->state;
  size_t n = op->node->n_inputs;
  if (n == 0) return ofx_op_error(op, OFX_BAD_MODEL, "has no inputs");
  ofx_tensor shape = in[0];
  for (size_t k = 0; k < n; k++) {
    if (in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
    if (in[k].dtype != in[0].dtype) return ofx_op_error(op, OFX_BAD_MODEL, "inputs have different types");
    if (!ofx_dtype_is_numeric(in[k].dtype) || in[k].dtype == OFX_DTYPE_BOOL)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu has type %s, which is not supported", k,
                          onnx_dtype_name((int32_t)in[k].dtype));
    const ofx_tensor *t[2] = {&shape, &in[k]};
    ofx_bcast b;
    OFX_TRY(ofx_bcast_init(op, t, 2, &b, &shape));
  }
  for (size_t k = 0; k < n; k++) {
    const ofx_tensor *t[2] = {&shape, &in[k]};
    ofx_tensor tmp;
    OFX_TRY(ofx_bcast_init(op, t, 2, &s->bcast[k], &tmp));
  }
  s->type = in[0].dtype;
  out[0] = shape;
  out[0].data = NULL;
  out[0].dtype = s->type;
  s->numel = ofx_tensor_numel(&out[0]);
  return OFX_OK;
}

static void variadic_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const variadic_state *s = op->state;
  void *z = out[0].data;
  bool ints = ofx_dtype_is_int(s->type), f32 = s->type == OFX_DTYPE_FLOAT32;
  for (size_t k = 0; k < op->node->n_inputs; k++) {
    const ofx_bcast *b = &s->bcast[k];
    const void *x = in[k].data;
    if (k == 0) OFX_BCAST_FOR(b, memcpy((char *)z + e * ofx_dtype_size(s->type), (const char *)x + off[1] * ofx_dtype_size(s->type),
                                        ofx_dtype_size(s->type)));
    else if (f32) OFX_BCAST_FOR(b, ((float *)z)[e] = (float)float_binary(s->kind, ((float *)z)[e], ((const float *)x)[off[1]]));
    else if (ints)
      OFX_BCAST_FOR(b, ofx_store_i64(z, s->type, e, int_binary(s->kind, ofx_load_i64(z, s->type, e), ofx_load_i64(x, s->type, off[1]), false)));
    else
      OFX_BCAST_FOR(b, ofx_store_f64(z, s->type, e, float_binary(s->kind, ofx_load_f64(z, s->type, e), ofx_load_f64(x, s->type, off[1]))));
  }
  if (s->mean) {
    size_t n = op->node->n_inputs;
    for (size_t e = 0; e < s->numel; e++)
      if (ints) ofx_store_i64(z, s->type, e, ofx_load_i64(z, s->type, e) / (int64_t)n);
      else if (f32) ((float *)z)[e] /= (float)n;
      else ofx_store_f64(z, s->type, e, ofx_load_f64(z, s->type, e) / (double)n);
  }
}

#define DEFINE_VARIADIC(name, fn, k, is_mean)                                             \
  static ofx_status fn##_init(ofx_op *op) {                                               \
    OFX_TRY(ofx_op_state_new(op, sizeof(variadic_state) + op->node->n_inputs * sizeof(ofx_bcast))); \
    variadic_state *s = op->state;                                                        \
    s->kind = k;                                                                          \
    s->mean = is_mean;                                                                    \
    return OFX_OK;                                                                        \
  }                                                                                       \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init, \
                                  .reshape = variadic_reshape, .run = variadic_run};

DEFINE_VARIADIC(Sum, sum, B_ADD, false)
DEFINE_VARIADIC(Mean, mean, B_ADD, true)
DEFINE_VARIADIC(Max, max, B_MAX, false)
DEFINE_VARIADIC(Min, min, B_MIN, false)

/* Where(condition, X, Y): three-way broadcast, any element type. */
static ofx_status where_init(ofx_op *op) {
  return ofx_op_state_new(op, sizeof(ofx_bcast));
}

static ofx_status where_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_BOOL, -1));
  for (size_t k = 1; k < 3; k++)
    if (k >= op->node->n_inputs || in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
  if (in[1].dtype != in[2].dtype || ofx_dtype_size(in[1].dtype) == 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "X and Y must have one supported type");
  const ofx_tensor *t[3] = {&in[0], &in[1], &in[2]};
  OFX_TRY(ofx_bcast_init(op, t, 3, op->state, &out[0]));
  out[0].dtype = in[1].dtype;
  return OFX_OK;
}

static void where_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const ofx_bcast *b = op->state;
  const uint8_t *c = in[0].data;
  const char *x = in[1].data, *y = in[2].data;
  char *z = out[0].data;
  size_t es = ofx_dtype_size(out[0].dtype);
  OFX_BCAST_FOR(b, memcpy(z + e * es, c[off[0]] ? x + off[1] * es : y + off[2] * es, es));
}

const ofx_op_def ofx_op_where = {.op_type = "Where", .kind = OFX_OP_Where, .init = where_init,
                                 .reshape = where_reshape, .run = where_run, .output_type = OFX_OUTPUT_LIKE_INPUT1};

/* Unary activations: one state holding the clamp bounds (Relu and Clip are both clamps). */
typedef struct unary_state {
  float min, max;
  bool dynamic[3]; /* Clip: input k is read at run time */
  /* Clip: constant bounds of another type than float32 (integer or float64 inputs), as stored;
   * OFX_DTYPE_UNDEFINED when absent or float32 (then in min/max) */
  ofx_dtype bound_type[3];
  int64_t bound[3]; /* the constant's bytes (int64 for their alignment) */
} unary_state;

static ofx_status unary_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  const unary_state *s = op->state;
  for (size_t k = 1; s && k < 3; k++)
    if (s->dynamic[k]) {
      OFX_TRY(ofx_op_check_input(op, in, k, OFX_DTYPE_FLOAT32, -1));
      if (ofx_tensor_numel(&in[k]) != 1) return ofx_op_error(op, OFX_BAD_INPUT, "input %zu must be a scalar", k);
    }
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

static ofx_status relu_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(unary_state)));
  unary_state *s = op->state;
  s->min = 0.0f;
  s->max = INFINITY;
  return OFX_OK;
}

static void clamp_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const unary_state *s = op->state;
  float min = s->dynamic[1] ? *(const float *)in[1].data : s->min;
  float max = s->dynamic[2] ? *(const float *)in[2].data : s->max;
  ofx_f32_vclamp(ofx_tensor_numel(&in[0]), in[0].data, out[0].data, min, max, ctx->pool);
}

static bool clamp_activation(const ofx_op *op, ofx_activation *act) {
  const unary_state *s = op->state;
  if (s->dynamic[1] || s->dynamic[2] || s->bound_type[1] || s->bound_type[2]) return false;
  *act = (ofx_activation){OFX_ACTIVATION_CLAMP, s->min, s->max};
  return true;
}

const ofx_op_def ofx_op_relu = {.op_type = "Relu", .kind = OFX_OP_Relu, .init = relu_init, .reshape = unary_reshape,
                                .run = clamp_run, .input_layout = OFX_OP_ANY_LAYOUT, .in_place = true,
                                .activation = clamp_activation};

/* Clip bounds: attributes before opset 11, optional scalar inputs since, of input 0's type
 * (packed when constant, else read at run time; types are checked at reshape). */
static ofx_status clip_bound(ofx_op *op, size_t k, float *out) {
  unary_state *s = op->state;
  if (!ofx_op_has_input(op, k)) return OFX_OK;
  const ofx_value *v = ofx_op_const_input(op, k);
  if (v == NULL) {
    s->dynamic[k] = true;
    return OFX_OK;
  }
  const char *what = k == 1 ? "min" : "max";
  if (v->dtype == OFX_DTYPE_BOOL || !ofx_dtype_is_numeric(v->dtype))
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) has type %s, expected a number", k, what,
                        onnx_dtype_name((int32_t)v->dtype));
  if (v->nbytes != ofx_dtype_size(v->dtype))
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be a scalar", k, what);
  if (v->dtype == OFX_DTYPE_FLOAT32) {
    memcpy(out, v->data, sizeof *out);
  } else {
    s->bound_type[k] = v->dtype;
    memcpy(&s->bound[k], v->data, v->nbytes);
  }
  ofx_op_mark_input(op, k, OFX_INPUT_PACKED);
  return OFX_OK;
}

static ofx_status clip_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(unary_state)));
  unary_state *s = op->state;
  s->min = -INFINITY;
  s->max = INFINITY;
  if (op->opset < 11) {
    OFX_TRY(ofx_node_attr_float(op->node, "min", -INFINITY, &s->min));
    OFX_TRY(ofx_node_attr_float(op->node, "max", INFINITY, &s->max));
  } else {
    OFX_TRY(clip_bound(op, 1, &s->min));
    OFX_TRY(clip_bound(op, 2, &s->max));
  }
  return OFX_OK;
}

/* Clip on any number type: float32 on the clamp kernel, float64 and integers in a typed loop;
 * the bounds must have input 0's type. */
static ofx_status clip_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  const unary_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, in[0].dtype, -1)); /* present */
  const ofx_dtype t = in[0].dtype;
  if (t == OFX_DTYPE_BOOL || !ofx_dtype_is_numeric(t) || (op->opset < 11 && t != OFX_DTYPE_FLOAT32))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s, which is not supported (float32, float64 or integers%s)",
                        onnx_dtype_name((int32_t)t), op->opset < 11 ? "; float32 before opset 11" : "");
  for (size_t k = 1; k < 3; k++) {
    const char *what = k == 1 ? "min" : "max";
    if (s->dynamic[k]) {
      OFX_TRY(ofx_op_check_input(op, in, k, t, -1));
      if (ofx_tensor_numel(&in[k]) != 1) return ofx_op_error(op, OFX_BAD_INPUT, "input %zu (%s) must be a scalar", k, what);
    } else if (ofx_op_input_is(op, k, OFX_INPUT_PACKED)) {
      ofx_dtype bt = s->bound_type[k] ? s->bound_type[k] : OFX_DTYPE_FLOAT32;
      if (bt != t)
        return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) has type %s, input 0 has %s", k, what,
                            onnx_dtype_name((int32_t)bt), onnx_dtype_name((int32_t)t));
    }
  }
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

static void clip_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const unary_state *s = op->state;
  const ofx_dtype t = in[0].dtype;
  if (t == OFX_DTYPE_FLOAT32) {
    clamp_run(op, in, out, ctx);
    return;
  }
  const void *bounds[3] = {NULL};
  for (size_t k = 1; k < 3; k++) bounds[k] = s->dynamic[k] ? in[k].data : s->bound_type[k] ? (const void *)&s->bound[k] : NULL;
  const size_t n = ofx_tensor_numel(&in[0]);
  if (t == OFX_DTYPE_DOUBLE) {
    const double lo = bounds[1] ? ofx_load_f64(bounds[1], t, 0) : -INFINITY, hi = bounds[2] ? ofx_load_f64(bounds[2], t, 0) : INFINITY;
    for (size_t i = 0; i < n; i++) {
      double v = ofx_load_f64(in[0].data, t, i);
      v = v < lo ? lo : v; /* NaN stays NaN; min > max gives max, as ONNX says */
      ofx_store_f64(out[0].data, t, i, v > hi ? hi : v);
    }
    return;
  }
  if (t == OFX_DTYPE_UINT64) { /* past INT64_MAX: compared unsigned */
    const uint64_t *x = in[0].data, lo = bounds[1] ? *(const uint64_t *)bounds[1] : 0;
    const uint64_t hi = bounds[2] ? *(const uint64_t *)bounds[2] : UINT64_MAX;
    uint64_t *y = out[0].data;
    for (size_t i = 0; i < n; i++) y[i] = x[i] < lo ? (lo > hi ? hi : lo) : x[i] > hi ? hi : x[i];
    return;
  }
  const int64_t lo = bounds[1] ? ofx_load_i64(bounds[1], t, 0) : INT64_MIN, hi = bounds[2] ? ofx_load_i64(bounds[2], t, 0) : INT64_MAX;
  for (size_t i = 0; i < n; i++) {
    int64_t v = ofx_load_i64(in[0].data, t, i);
    v = v < lo ? lo : v;
    ofx_store_i64(out[0].data, t, i, v > hi ? hi : v);
  }
}

const ofx_op_def ofx_op_clip = {.op_type = "Clip", .kind = OFX_OP_Clip, .init = clip_init, .reshape = clip_reshape,
                                .run = clip_run, .input_layout = OFX_OP_ANY_LAYOUT, .in_place = true,
                                .activation = clamp_activation};

static void sigmoid_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  ofx_f32_vunary(ofx_kernels()->f32_vsigmoid, ofx_tensor_numel(&in[0]), in[0].data, out[0].data, ctx->pool);
}

static bool sigmoid_activation(const ofx_op *op, ofx_activation *act) {
  *act = (ofx_activation){OFX_ACTIVATION_SIGMOID, 0, 0};
  return true;
}

const ofx_op_def ofx_op_sigmoid = {.op_type = "Sigmoid", .kind = OFX_OP_Sigmoid, .init = ofx_op_no_state,
                                   .reshape = unary_reshape, .run = sigmoid_run, .input_layout = OFX_OP_ANY_LAYOUT,
                                   .in_place = true, .activation = sigmoid_activation};
