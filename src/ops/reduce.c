/* Reductions over axes (float32, float64; int64/int32 for Sum/Max/Min/Prod): ReduceMean, ReduceSum,
 * ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceSumSquare, ReduceLogSum,
 * ReduceLogSumExp; ArgMax/ArgMin; and the softmax family Softmax, LogSoftmax, Hardmax
 * (2-D coercion before opset 13, one axis since). Axes come from the attribute, or from input 1
 * (ReduceSum since 13, the others since 18), known at plan time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/typed.h"
#include "threadpool/threadpool.h"

typedef enum reduce_kind { R_MEAN, R_SUM, R_MAX, R_MIN, R_PROD, R_L1, R_L2, R_SUM_SQUARE, R_LOG_SUM, R_LOG_SUM_EXP, R_ARGMAX, R_ARGMIN } reduce_kind;

typedef struct reduce_state {
  reduce_kind kind;
  int64_t keepdims, noop_with_empty_axes, select_last;
  int rank;
  int64_t dims[OFX_MAX_RANK];
  bool reduced[OFX_MAX_RANK];
} reduce_state;

static ofx_status reduce_make(ofx_op *op, reduce_kind kind) {
  OFX_TRY(ofx_op_state_new(op, sizeof(reduce_state)));
  reduce_state *s = op->state;
  s->kind = kind;
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  OFX_TRY(ofx_node_attr_int(op->node, "keepdims", 1, &s->keepdims));
  OFX_TRY(ofx_node_attr_int(op->node, "noop_with_empty_axes", 0, &s->noop_with_empty_axes));
  OFX_TRY(ofx_node_attr_int(op->node, "select_last_index", 0, &s->select_last));
  return OFX_OK;
}

static ofx_status reduce_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  reduce_state *s = op->state;
  if (op->node->n_inputs < 1 || in[0].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input 0 is missing");
  bool arg = s->kind >= R_ARGMAX;
  bool int_ok = s->kind == R_SUM || s->kind == R_MAX || s->kind == R_MIN || s->kind == R_PROD || arg;
  if (in[0].dtype != OFX_DTYPE_FLOAT32 && in[0].dtype != OFX_DTYPE_DOUBLE &&
      !(int_ok && (in[0].dtype == OFX_DTYPE_INT64 || in[0].dtype == OFX_DTYPE_INT32)))
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input 0 has type %s, which is not supported", onnx_dtype_name((int32_t)in[0].dtype));
  int rank = in[0].rank;
  int64_t axes[OFX_MAX_RANK];
  size_t n = 0;
  bool axes_input = !arg && (op->opset >= 18 || (s->kind == R_SUM && op->opset >= 13));
  if (arg) {
    int64_t axis;
    OFX_TRY(ofx_node_attr_int(op->node, "axis", 0, &axis));
    axes[0] = axis;
    n = 1;
  } else if (axes_input) {
    if (ofx_op_has_input(op, 1)) OFX_TRY(ofx_read_ints_input(op, in, 1, "axes", axes, OFX_MAX_RANK, &n));
  } else {
    OFX_TRY(ofx_node_attr_ints(op->node, "axes", axes, OFX_MAX_RANK, &n));
  }
  memset(s->reduced, 0, sizeof s->reduced);
  for (size_t i = 0; i < n; i++) {
    int a;
    OFX_TRY(ofx_op_axis_strict(op, "axis", axes[i], rank, &a));
    s->reduced[a] = true;
  }
  bool noop = n == 0 && axes_input && s->noop_with_empty_axes;
  if (n == 0 && !noop)
    for (int i = 0; i < rank; i++) s->reduced[i] = true;
  s->rank = rank;
  memcpy(s->dims, in[0].dims, sizeof s->dims);
  out[0].dtype = arg ? OFX_DTYPE_INT64 : in[0].dtype;
  out[0].rank = 0;
  for (int i = 0; i < rank; i++) {
    if (s->reduced[i] && arg && in[0].dims[i] == 0) return ofx_op_error(op, OFX_BAD_INPUT, "cannot take the arg of an empty axis");
    if (!s->reduced[i]) out[0].dims[out[0].rank++] = in[0].dims[i];
    else if (s->keepdims) out[0].dims[out[0].rank++] = 1;
  }
  return OFX_OK;
}

/* Rows of the float ReduceMean/ReduceSum over trailing axes (LayerNorm's mean and variance
 * over the last axis): the row length, or 0 when the reduced axes are not a trailing block. */
static size_t trailing_row(const reduce_state *s, const ofx_tensor *x) {
  if (x->dtype != OFX_DTYPE_FLOAT32 || (s->kind != R_MEAN && s->kind != R_SUM)) return 0;
  size_t len = 1;
  int d = s->rank - 1;
  for (; d >= 0 && s->reduced[d]; d--) len *= (size_t)s->dims[d];
  for (; d >= 0; d--)
    if (s->reduced[d] && s->dims[d] != 1) return 0;
  return len;
}

static void reduce_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const reduce_state *s = op->state;
  size_t n_out = ofx_tensor_numel(&out[0]), n_in = ofx_tensor_numel(&in[0]);
  const size_t row = trailing_row(s, &in[0]);
  if (row > 0) {
    const ofx_f32_rsum_fn rsum = ofx_kernels()->f32_rsum;
    const float *x = in[0].data;
    float *y = out[0].data;
    const float scale = s->kind == R_MEAN ? 1.0f / (float)row : 1.0f;
    for (size_t o = 0; o < n_out; o++) y[o] = rsum(row, x + o * row) * scale;
    return;
  }
  ofx_dtype t = in[0].dtype;
  bool ints = t != OFX_DTYPE_FLOAT32 && t != OFX_DTYPE_DOUBLE; /* float64 accumulates as float32 does: in double */
  double *acc = ctx->scratch;     /* per output: accumulator */
  int64_t *count = (int64_t *)(acc + n_out); /* per output: elements seen (arg: best index) */
  int64_t *iacc = (int64_t *)(count + n_out);
  double init = s->kind == R_MAX || s->kind == R_ARGMAX ? -INFINITY : s->kind == R_MIN || s->kind == R_ARGMIN ? INFINITY
                : s->kind == R_PROD ? 1.0 : 0.0;
  for (size_t o = 0; o < n_out; o++) {
    acc[o] = init;
    count[o] = -1;
    iacc[o] = s->kind == R_MAX ? INT64_MIN : s->kind == R_MIN ? INT64_MAX : s->kind == R_PROD ? 1 : 0;
  }
  double max_for_lse = 0;
  int64_t idx[OFX_MAX_RANK] = {0};
  /* output strides over the input index (0 on reduced axes) */
  int64_t ost[OFX_MAX_RANK], st = 1;
  for (int d = s->rank - 1; d >= 0; d--) {
    ost[d] = s->reduced[d] ? 0 : st;
    if (!s->reduced[d]) st *= s->dims[d];
  }
  for (int pass = 0; pass < (s->kind == R_LOG_SUM_EXP ? 2 : 1); pass++) {
    size_t o = 0;
    memset(idx, 0, sizeof idx);
    for (size_t e = 0; e < n_in; e++) {
      double x = ints ? 0 : t == OFX_DTYPE_DOUBLE ? ((const double *)in[0].data)[e] : ((const float *)in[0].data)[e];
      switch (s->kind) {
        case R_MEAN: case R_SUM: acc[o] += x; break;
        case R_MAX: acc[o] = x > acc[o] || isnan(x) ? x : acc[o]; break;
        case R_MIN: acc[o] = x < acc[o] || isnan(x) ? x : acc[o]; break;
        case R_PROD: acc[o] *= x; break;
        case R_L1: acc[o] += fabs(x); break;
        case R_L2: case R_SUM_SQUARE: acc[o] += x * x; break;
        case R_LOG_SUM: acc[o] += x; break;
        case R_LOG_SUM_EXP:
          if (pass == 0) acc[o] = x > acc[o] ? x : acc[o];
          else iacc[o] = 0, ((double *)(iacc + n_out))[o] += exp(x - acc[o]);
          break;
        case R_ARGMAX: case R_ARGMIN: {
          double v = ints ? (double)ofx_load_i64(in[0].data, t, e) : x;
          int64_t i = 0;
          for (int d = 0; d < s->rank; d++)
            if (s->reduced[d]) i = idx[d];
          bool better = s->kind == R_ARGMAX ? (s->select_last ? v >= acc[o] : v > acc[o]) : (s->select_last ? v <= acc[o] : v < acc[o]);
          if (count[o] < 0 || better) {
            acc[o] = v;
            count[o] = i;
          }
          break;
        }
      }
      if (ints && s->kind <= R_PROD) {
        int64_t v = ofx_load_i64(in[0].data, t, e);
        iacc[o] = s->kind == R_SUM ? ofx_i64_add_wrap(iacc[o], v) : s->kind == R_MAX ? (v > iacc[o] ? v : iacc[o])
                  : s->kind == R_MIN ? (v < iacc[o] ? v : iacc[o]) : ofx_i64_mul_wrap(iacc[o], v);
      }
      for (int d = s->rank - 1; d >= 0; d--) {
        o += (size_t)ost[d];
        if (++idx[d] < s->dims[d]) break;
        o -= (size_t)(ost[d] * s->dims[d]);
        idx[d] = 0;
      }
    }
    (void)max_for_lse;
    if (s->kind == R_LOG_SUM_EXP && pass == 0)
      for (size_t q = 0; q < n_out; q++) ((double *)(iacc + n_out))[q] = 0;
  }
  size_t reduced = n_out ? n_in / n_out : 0;
  for (size_t o = 0; o < n_out; o++) {
    if (s->kind >= R_ARGMAX) {
      ((int64_t *)out[0].data)[o] = count[o] < 0 ? 0 : count[o];
      continue;
    }
    if (ints) {
      ofx_store_i64(out[0].data, t, o, iacc[o]);
      continue;
    }
    double v = acc[o];
    if (s->kind == R_MEAN) v = reduced ? v / (double)reduced : NAN;
    else if (s->kind == R_L2) v = sqrt(v);
    else if (s->kind == R_LOG_SUM) v = log(v);
    else if (s->kind == R_LOG_SUM_EXP) v = isinf(acc[o]) ? acc[o] : acc[o] + log(((double *)(iacc + n_out))[o]);
    if (t == OFX_DTYPE_DOUBLE) ((double *)out[0].data)[o] = v;
    else ((float *)out[0].data)[o] = (float)v;
  }
}

static ofx_status reduce_reshape_scratch(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(reduce_reshape(op, in, out));
  op->scratch_bytes = ofx_tensor_numel(&out[0]) * 4 * sizeof(double) + 16;
  return OFX_OK;
}

/* name: the op's row in op-defs.inc (its .op_type and .kind); math: its reduce_kind; trailing
 * arguments are more fields of the definition. */
#define DEFINE_REDUCE(name, fn, math, ...)                                                     \
  static ofx_status fn##_init(ofx_op *op) { return reduce_make(op, math); }                   \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init, \
                                  .reshape = reduce_reshape_scratch, .run = reduce_run, __VA_ARGS__};

DEFINE_REDUCE(ReduceMean, reduce_mean, R_MEAN, .torch_name = "mean")
DEFINE_REDUCE(ReduceSum, reduce_sum, R_SUM)
DEFINE_REDUCE(ReduceMax, reduce_max, R_MAX)
DEFINE_REDUCE(ReduceMin, reduce_min, R_MIN)
DEFINE_REDUCE(ReduceProd, reduce_prod, R_PROD)
DEFINE_REDUCE(ReduceL1, reduce_l1, R_L1)
DEFINE_REDUCE(ReduceL2, reduce_l2, R_L2)
DEFINE_REDUCE(ReduceSumSquare, reduce_sum_square, R_SUM_SQUARE)
DEFINE_REDUCE(ReduceLogSum, reduce_log_sum, R_LOG_SUM)
DEFINE_REDUCE(ReduceLogSumExp, reduce_log_sum_exp, R_LOG_SUM_EXP)
DEFINE_REDUCE(ArgMax, argmax, R_ARGMAX, .output_type = OFX_OUTPUT_INT64)
DEFINE_REDUCE(ArgMin, argmin, R_ARGMIN, .output_type = OFX_OUTPUT_INT64)

/* Softmax family: rows of `inner` elements strided by `stride` (1 for the 2-D coercion). */
typedef enum softmax_kind { S_SOFTMAX, S_LOG_SOFTMAX, S_HARDMAX } softmax_kind;

typedef struct softmax_state {
  softmax_kind kind;
  size_t outer, len, inner; /* [outer][len][inner], reduce over len */
} softmax_state;

static ofx_status softmax_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  softmax_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  int64_t axis_attr;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", op->opset < 13 ? 1 : -1, &axis_attr));
  int rank = in[0].rank, axis;
  if (rank == 0) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 1 or more");
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, rank, &axis));
  s->outer = s->len = s->inner = 1;
  for (int d = 0; d < rank; d++) {
    size_t n = (size_t)in[0].dims[d];
    if (op->opset < 13) *(d < axis ? &s->outer : &s->len) *= n; /* coerced to 2-D [outer, rest] */
    else *(d < axis ? &s->outer : d == axis ? &s->len : &s->inner) *= n;
  }
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

typedef struct softmax_rows {
  const float *x;
  float *y;
  size_t len;
} softmax_rows;

/* contiguous rows (softmax over the last axis: attention): vectorized max, one e^(x - max)
 * pass that also sums, then one scale by 1/sum */
static void softmax_rows_tile(void *ctx, size_t i, size_t j, size_t rows, size_t cols) {
  const softmax_rows *r = ctx;
  const ofx_kernel_config *k = ofx_kernels();
  for (size_t o = i; o < i + rows; o++) {
    const float *row = r->x + o * r->len;
    float *dst = r->y + o * r->len;
    const float max = k->f32_rmax(r->len, row);
    if (max == -INFINITY) { /* all -inf or NaN: the general loop's results */
      for (size_t q = 0; q < r->len; q++) dst[q] = NAN;
      continue;
    }
    const float inv = 1.0f / k->f32_vexpminusmax(r->len, row, max, dst);
    k->f32_vmulc(r->len, dst, &inv, dst);
  }
}

static void softmax_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const softmax_state *s = op->state;
  const float *x = in[0].data;
  float *y = out[0].data;
  if (s->kind == S_SOFTMAX && s->inner == 1) {
    softmax_rows r = {x, y, s->len};
    /* ~16K elements per tile: well above the cost of waking a worker */
    const size_t tile = s->len ? ofx_divide_round_up(16384, s->len) : s->outer;
    ofx_threadpool *pool = s->outer * s->len >= 2 * 16384 ? ctx->pool : NULL;
    ofx_threadpool_parallelize_2d_tile(pool, softmax_rows_tile, &r, s->outer, 1, tile ? tile : 1, 1);
    return;
  }
  for (size_t o = 0; o < s->outer; o++)
    for (size_t i = 0; i < s->inner; i++) {
      size_t base = o * s->len * s->inner + i;
      float max = -INFINITY;
      size_t arg = 0;
      for (size_t k = 0; k < s->len; k++)
        if (x[base + k * s->inner] > max) {
          max = x[base + k * s->inner];
          arg = k;
        }
      if (s->kind == S_HARDMAX) {
        for (size_t k = 0; k < s->len; k++) y[base + k * s->inner] = k == arg ? 1.0f : 0.0f;
        continue;
      }
      double sum = 0;
      for (size_t k = 0; k < s->len; k++) sum += exp((double)x[base + k * s->inner] - max);
      for (size_t k = 0; k < s->len; k++) {
        double v = (double)x[base + k * s->inner] - max;
        y[base + k * s->inner] = (float)(s->kind == S_LOG_SOFTMAX ? v - log(sum) : exp(v) / sum);
      }
    }
}

#define DEFINE_SOFTMAX(name, fn, k)                                                     \
  static ofx_status fn##_init(ofx_op *op) {                                             \
    OFX_TRY(ofx_op_state_new(op, sizeof(softmax_state)));                               \
    softmax_state *s = op->state;                                                       \
    s->kind = k;                                                                        \
    return OFX_OK;                                                                      \
  }                                                                                     \
  const ofx_op_def ofx_op_##fn = {.op_type = #name, .kind = OFX_OP_##name, .init = fn##_init, \
                                  .reshape = softmax_reshape, .run = softmax_run};

DEFINE_SOFTMAX(Softmax, softmax, S_SOFTMAX)
DEFINE_SOFTMAX(LogSoftmax, log_softmax, S_LOG_SOFTMAX)
DEFINE_SOFTMAX(Hardmax, hardmax, S_HARDMAX)
