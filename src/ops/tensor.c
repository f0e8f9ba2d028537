/* Data movement, any element type: Transpose, Concat, Split, Slice, Gather, GatherElements,
 * Tile, Pad, DepthToSpace, SpaceToDepth. Elements are moved as bytes of their size; index
 * inputs are int64/int32 and validated before they are used. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/typed.h"

static ofx_status any_input(const ofx_op *op, const ofx_tensor *in, size_t k) {
  if (k >= op->node->n_inputs || in[k].rank < 0) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
  if (ofx_dtype_size(in[k].dtype) == 0)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu has type %s, which is not supported", k, onnx_dtype_name((int32_t)in[k].dtype));
  return OFX_OK;
}

static void strides_of(const int64_t *dims, int rank, int64_t *strides) {
  int64_t s = 1;
  for (int i = rank - 1; i >= 0; i--) {
    strides[i] = s;
    s *= dims[i];
  }
}

/* A general strided copy: out element e (row-major over dims) = in[base + sum idx[d]*step[d]]. */
typedef struct strided {
  int rank;
  int64_t dims[OFX_MAX_RANK], step[OFX_MAX_RANK], base;
} strided;

/* Element loop for the axes no fast path covers; es is a constant after inlining. */
static inline void strided_elems(size_t n, int64_t step, const char *x, char *y, size_t es) {
  for (size_t e = 0; e < n; e++) memcpy(y + e * es, x + (int64_t)e * step * (int64_t)es, es);
}

/* Copies in three shapes, after dropping size-1 axes and merging axes that are contiguous in
 * the input (Transpose [197,1,768] -> [1,197,768] becomes one memcpy):
 *   - innermost axis contiguous (head split/merge, Slice of the last axis): memcpy per run;
 *   - 32-bit elements with another axis contiguous: 2-D transposes through x32_transpose
 *     (attention's K transpose [197,12,64] -> [12,64,197]);
 *   - otherwise element by element along the innermost axis. */
static void strided_copy(const strided *s, const char *x, char *y, size_t es) {
  int r = 0;
  int64_t dims[OFX_MAX_RANK], step[OFX_MAX_RANK];
  for (int d = 0; d < s->rank; d++) {
    if (s->dims[d] == 0) return;
    if (s->dims[d] == 1) continue;
    if (r > 0 && step[r - 1] == s->step[d] * s->dims[d]) {
      dims[r - 1] *= s->dims[d];
      step[r - 1] = s->step[d];
    } else {
      dims[r] = s->dims[d];
      step[r++] = s->step[d];
    }
  }
  x += s->base * (int64_t)es;
  if (r == 0) {
    memcpy(y, x, es);
    return;
  }
  /* the axes walked by the outer loop, and what one step of each moves in x and y */
  int64_t ostride[OFX_MAX_RANK];
  strides_of(dims, r, ostride);
  int inner = r - 1, tr = -1; /* tr: the contiguous input axis of a 2-D transpose */
  if (step[inner] != 1 && es == 4)
    for (int d = 0; d < inner; d++)
      if (step[d] == 1) tr = d;
  int loop[OFX_MAX_RANK], n_loop = 0;
  for (int d = 0; d < inner; d++)
    if (d != tr) loop[n_loop++] = d;
  const size_t n_inner = (size_t)dims[inner];
  int64_t idx[OFX_MAX_RANK] = {0}, xo = 0, yo = 0;
  for (;;) {
    if (tr >= 0)
      ofx_kernels()->x32_transpose(n_inner, (size_t)dims[tr], (const uint32_t *)(x + xo * 4), (size_t)step[inner],
                                   (uint32_t *)(y + yo * 4), (size_t)ostride[tr]);
    else if (step[inner] == 1)
      memcpy(y + yo * (int64_t)es, x + xo * (int64_t)es, n_inner * es);
    else if (es == 4)
      strided_elems(n_inner, step[inner], x + xo * 4, y + yo * 4, 4);
    else
      strided_elems(n_inner, step[inner], x + xo * (int64_t)es, y + yo * (int64_t)es, es);
    int k = n_loop - 1;
    for (; k >= 0; k--) {
      const int d = loop[k];
      xo += step[d];
      yo += ostride[d];
      if (++idx[k] < dims[d]) break;
      xo -= step[d] * dims[d];
      yo -= ostride[d] * dims[d];
      idx[k] = 0;
    }
    if (k < 0) return;
  }
}

static void strided_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  strided_copy(op->state, in[0].data, out[0].data, ofx_dtype_size(in[0].dtype));
}

static ofx_status strided_init(ofx_op *op) {
  return ofx_op_state_new(op, sizeof(strided));
}

/* Transpose */
static ofx_status transpose_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  strided *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  int rank = in[0].rank;
  int64_t perm[OFX_MAX_RANK];
  size_t n;
  OFX_TRY(ofx_node_attr_ints(op->node, "perm", perm, OFX_MAX_RANK, &n));
  if (n == 0)
    for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i;
  else if (n != (size_t)rank)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'perm' has %zu values, the input has rank %d", n, rank);
  bool seen[OFX_MAX_RANK] = {false};
  int64_t st[OFX_MAX_RANK];
  strides_of(in[0].dims, rank, st);
  s->rank = rank;
  s->base = 0;
  for (int i = 0; i < rank; i++) {
    int p;
    OFX_TRY(ofx_op_axis_strict(op, "perm value", perm[i], rank, &p));
    if (seen[p]) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'perm' repeats axis %d", p);
    seen[p] = true;
    out[0].dims[i] = in[0].dims[p];
    s->dims[i] = in[0].dims[p];
    s->step[i] = st[p];
  }
  out[0].dtype = in[0].dtype;
  out[0].rank = rank;
  return OFX_OK;
}

const ofx_op_def ofx_op_transpose = {.op_type = "Transpose", .kind = OFX_OP_Transpose, .init = strided_init,
                                     .reshape = transpose_reshape, .run = strided_run,
                                     .trait_flags = OFX_TRAIT_NAMED_BY_PERM};

/* Slice: attributes before opset 10, inputs (known at plan time) since; negative steps. */
static ofx_status slice_init(ofx_op *op) {
  for (size_t k = 1; k <= 4; k++) ofx_op_mark_input(op, k, OFX_INPUT_PLAN);
  return strided_init(op);
}

static ofx_status slice_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  strided *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  int rank = in[0].rank;
  int64_t starts[OFX_MAX_RANK], ends[OFX_MAX_RANK], axes[OFX_MAX_RANK], steps[OFX_MAX_RANK];
  size_t n, n_ends, n_axes = 0, n_steps = 0;
  if (op->opset < 10) {
    OFX_TRY(ofx_node_attr_ints(op->node, "starts", starts, OFX_MAX_RANK, &n));
    OFX_TRY(ofx_node_attr_ints(op->node, "ends", ends, OFX_MAX_RANK, &n_ends));
    OFX_TRY(ofx_node_attr_ints(op->node, "axes", axes, OFX_MAX_RANK, &n_axes));
  } else {
    for (size_t k = 1; k < 3; k++)
      if (!ofx_op_has_input(op, k)) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu is missing", k);
    OFX_TRY(ofx_read_ints_input(op, in, 1, "starts", starts, OFX_MAX_RANK, &n));
    OFX_TRY(ofx_read_ints_input(op, in, 2, "ends", ends, OFX_MAX_RANK, &n_ends));
    if (ofx_op_has_input(op, 3)) OFX_TRY(ofx_read_ints_input(op, in, 3, "axes", axes, OFX_MAX_RANK, &n_axes));
    if (ofx_op_has_input(op, 4)) OFX_TRY(ofx_read_ints_input(op, in, 4, "steps", steps, OFX_MAX_RANK, &n_steps));
  }
  if (n_ends != n || (n_axes && n_axes != n) || (n_steps && n_steps != n))
    return ofx_op_error(op, OFX_BAD_MODEL, "starts, ends, axes and steps must have the same length");
  int64_t st[OFX_MAX_RANK];
  strides_of(in[0].dims, rank, st);
  s->rank = rank;
  s->base = 0;
  for (int i = 0; i < rank; i++) {
    s->dims[i] = in[0].dims[i];
    s->step[i] = st[i];
  }
  bool seen[OFX_MAX_RANK] = {false};
  for (size_t i = 0; i < n; i++) {
    int a;
    OFX_TRY(ofx_op_axis_strict(op, "axis", n_axes ? axes[i] : (int64_t)i, rank, &a));
    if (seen[a]) return ofx_op_error(op, OFX_BAD_MODEL, "axis %d is repeated", a);
    seen[a] = true;
    int64_t d = in[0].dims[a], step = n_steps ? steps[i] : 1, b = starts[i], e = ends[i];
    if (step == 0) return ofx_op_error(op, OFX_BAD_MODEL, "steps must not be 0");
    if (b < 0) b += d;
    if (e < 0) e += d;
    int64_t count;
    if (step > 0) {
      b = b < 0 ? 0 : b > d ? d : b;
      e = e < 0 ? 0 : e > d ? d : e;
      count = e > b ? (e - b + step - 1) / step : 0;
    } else {
      b = b < 0 ? -1 : b > d - 1 ? d - 1 : b;
      e = e < -1 ? -1 : e > d - 1 ? d - 1 : e;
      count = b > e ? (b - e + (-step) - 1) / (-step) : 0;
    }
    s->dims[a] = count;
    s->step[a] = st[a] * step;
    if (count > 0) s->base += b * st[a];
  }
  out[0].dtype = in[0].dtype;
  out[0].rank = rank;
  memcpy(out[0].dims, s->dims, sizeof s->dims);
  return OFX_OK;
}

const ofx_op_def ofx_op_slice = {.op_type = "Slice", .kind = OFX_OP_Slice, .init = slice_init,
                                 .reshape = slice_reshape, .run = strided_run};

/* Concat */
typedef struct concat_state {
  int axis;
  size_t outer, inner_out;
} concat_state;

static ofx_status concat_init(ofx_op *op) {
  return ofx_op_state_new(op, sizeof(concat_state));
}

static ofx_status concat_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  concat_state *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  int64_t axis_attr;
  if (!ofx_node_has_attr(op->node, "axis")) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'axis' is required");
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 0, &axis_attr));
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, in[0].rank, &s->axis));
  out[0] = in[0];
  out[0].data = NULL;
  out[0].dims[s->axis] = 0;
  for (size_t k = 0; k < op->node->n_inputs; k++) {
    OFX_TRY(any_input(op, in, k));
    bool ok = in[k].rank == in[0].rank && in[k].dtype == in[0].dtype;
    for (int d = 0; ok && d < in[0].rank; d++) ok = d == s->axis || in[k].dims[d] == in[0].dims[d];
    if (!ok) {
      char a[96], b[96];
      return ofx_op_error(op, OFX_BAD_INPUT, "input %zu (%s) does not match input 0 (%s) off axis %d", k,
                          ofx_shape_str(in[k].dims, in[k].rank, a, sizeof a), ofx_shape_str(in[0].dims, in[0].rank, b, sizeof b), s->axis);
    }
    out[0].dims[s->axis] += in[k].dims[s->axis];
  }
  s->outer = 1;
  for (int d = 0; d < s->axis; d++) s->outer *= (size_t)in[0].dims[d];
  s->inner_out = ofx_tensor_numel(&out[0]) / (s->outer ? s->outer : 1);
  return OFX_OK;
}

static void concat_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const concat_state *s = op->state;
  size_t es = ofx_dtype_size(out[0].dtype), at = 0;
  for (size_t k = 0; k < op->node->n_inputs; k++) {
    size_t inner = ofx_tensor_numel(&in[k]) / (s->outer ? s->outer : 1);
    for (size_t o = 0; o < s->outer && inner; o++)
      memcpy((char *)out[0].data + (o * s->inner_out + at) * es, (const char *)in[k].data + o * inner * es, inner * es);
    at += inner;
  }
}

const ofx_op_def ofx_op_concat = {.op_type = "Concat", .kind = OFX_OP_Concat, .init = concat_init,
                                  .reshape = concat_reshape, .run = concat_run, .torch_name = "cat"};

/* Split: 'split' attribute before opset 13, input 1 since; num_outputs (opset 18) or equal parts. */
typedef struct split_state {
  int axis;
  size_t outer, inner, axis_len;
  int64_t sizes[64];
} split_state;

static ofx_status split_init(ofx_op *op) {
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  if (op->node->n_outputs > 64) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "at most 64 outputs are supported");
  return ofx_op_state_new(op, sizeof(split_state));
}

static ofx_status split_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  split_state *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  int64_t axis_attr;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 0, &axis_attr));
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, in[0].rank, &s->axis));
  size_t n_out = op->node->n_outputs, n = 0;
  int64_t len = in[0].dims[s->axis];
  if (op->opset < 13) OFX_TRY(ofx_node_attr_ints(op->node, "split", s->sizes, 64, &n));
  else if (ofx_op_has_input(op, 1)) OFX_TRY(ofx_read_ints_input(op, in, 1, "split", s->sizes, 64, &n));
  if (n) {
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
      if (s->sizes[i] < 0) return ofx_op_error(op, OFX_BAD_MODEL, "split sizes must not be negative");
      total += s->sizes[i];
    }
    if (n != n_out || total != len)
      return ofx_op_error(op, OFX_BAD_INPUT, "split sizes (%zu of them, total %lld) do not match %zu outputs and axis length %lld", n,
                          (long long)total, n_out, (long long)len);
  } else {
    if (n_out == 0) return ofx_op_error(op, OFX_BAD_MODEL, "no outputs");
    int64_t part = (len + (int64_t)n_out - 1) / (int64_t)n_out; /* the last part may be smaller (opset 18) */
    for (size_t i = 0; i < n_out; i++) {
      int64_t left = len - part * (int64_t)i;
      s->sizes[i] = left < 0 ? 0 : left < part ? left : part;
    }
  }
  s->outer = 1;
  for (int d = 0; d < s->axis; d++) s->outer *= (size_t)in[0].dims[d];
  s->inner = 1;
  for (int d = s->axis + 1; d < in[0].rank; d++) s->inner *= (size_t)in[0].dims[d];
  s->axis_len = (size_t)len;
  for (size_t i = 0; i < n_out; i++) {
    out[i] = in[0];
    out[i].data = NULL;
    out[i].dims[s->axis] = s->sizes[i];
  }
  return OFX_OK;
}

static void split_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const split_state *s = op->state;
  size_t es = ofx_dtype_size(in[0].dtype), at = 0;
  for (size_t i = 0; i < op->node->n_outputs; i++) {
    size_t chunk = (size_t)s->sizes[i] * s->inner * es;
    if (out[i].data && chunk)
      for (size_t o = 0; o < s->outer; o++)
        memcpy((char *)out[i].data + o * chunk, (const char *)in[0].data + (o * s->axis_len + at) * s->inner * es, chunk);
    at += (size_t)s->sizes[i];
  }
}

const ofx_op_def ofx_op_split = {.op_type = "Split", .kind = OFX_OP_Split, .init = split_init,
                                 .reshape = split_reshape, .run = split_run};

/* Gather along an axis with int64/int32 indices (negative wrap); out-of-range indices are
 * clamped at run time only when the data was not known at plan time (run cannot fail). */
typedef struct gather_state {
  int axis;
  size_t outer, inner, axis_len, n_idx;
} gather_state;

static ofx_status gather_init(ofx_op *op) {
  return ofx_op_state_new(op, sizeof(gather_state));
}

static ofx_status check_indices(const ofx_op *op, const ofx_tensor *t, int64_t len) {
  if (t->dtype != OFX_DTYPE_INT64 && t->dtype != OFX_DTYPE_INT32)
    return ofx_op_error(op, OFX_BAD_MODEL, "indices must be int64 or int32, not %s", onnx_dtype_name((int32_t)t->dtype));
  if (t->data == NULL) return OFX_OK;
  for (size_t i = 0, n = ofx_tensor_numel(t); i < n; i++) {
    int64_t v = ofx_load_i64(t->data, t->dtype, i);
    if (v < -len || v >= len) return ofx_op_error(op, OFX_BAD_INPUT, "index %lld is out of range for a dim of %lld", (long long)v, (long long)len);
  }
  return OFX_OK;
}

static int64_t fix_index(int64_t v, int64_t len) {
  if (v < 0) v += len;
  return v < 0 ? 0 : v >= len ? (len ? len - 1 : 0) : v;
}

static ofx_status gather_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  gather_state *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  OFX_TRY(any_input(op, in, 1));
  int64_t axis_attr;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 0, &axis_attr));
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, in[0].rank, &s->axis));
  OFX_TRY(check_indices(op, &in[1], in[0].dims[s->axis]));
  int rank = in[0].rank - 1 + in[1].rank;
  if (rank > OFX_MAX_RANK) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "the output would have rank %d", rank);
  if (in[0].dims[s->axis] == 0 && ofx_tensor_numel(&in[1]) > 0) return ofx_op_error(op, OFX_BAD_INPUT, "gathering from an empty axis");
  out[0].dtype = in[0].dtype;
  out[0].rank = 0;
  for (int d = 0; d < s->axis; d++) out[0].dims[out[0].rank++] = in[0].dims[d];
  for (int d = 0; d < in[1].rank; d++) out[0].dims[out[0].rank++] = in[1].dims[d];
  for (int d = s->axis + 1; d < in[0].rank; d++) out[0].dims[out[0].rank++] = in[0].dims[d];
  s->outer = 1;
  for (int d = 0; d < s->axis; d++) s->outer *= (size_t)in[0].dims[d];
  s->inner = 1;
  for (int d = s->axis + 1; d < in[0].rank; d++) s->inner *= (size_t)in[0].dims[d];
  s->axis_len = (size_t)in[0].dims[s->axis];
  s->n_idx = ofx_tensor_numel(&in[1]);
  return OFX_OK;
}

static void gather_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const gather_state *s = op->state;
  size_t es = ofx_dtype_size(in[0].dtype), row = s->inner * es;
  char *y = out[0].data;
  for (size_t o = 0; o < s->outer; o++)
    for (size_t i = 0; i < s->n_idx; i++) {
      int64_t j = fix_index(ofx_load_i64(in[1].data, in[1].dtype, i), (int64_t)s->axis_len);
      memcpy(y + (o * s->n_idx + i) * row, (const char *)in[0].data + (o * s->axis_len + (size_t)j) * row, row);
    }
}

const ofx_op_def ofx_op_gather = {.op_type = "Gather", .kind = OFX_OP_Gather, .init = gather_init,
                                  .reshape = gather_reshape, .run = gather_run};

/* GatherElements: out[i...] = data[... index[i...] on axis ...] */
static ofx_status gather_elements_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  gather_state *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  OFX_TRY(any_input(op, in, 1));
  int64_t axis_attr;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", 0, &axis_attr));
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, in[0].rank, &s->axis));
  if (in[1].rank != in[0].rank) return ofx_op_error(op, OFX_BAD_INPUT, "indices must have the data's rank");
  for (int d = 0; d < in[0].rank; d++)
    if (d != s->axis && in[1].dims[d] > in[0].dims[d]) return ofx_op_error(op, OFX_BAD_INPUT, "indices are larger than the data off the axis");
  OFX_TRY(check_indices(op, &in[1], in[0].dims[s->axis]));
  if (in[0].dims[s->axis] == 0 && ofx_tensor_numel(&in[1]) > 0) return ofx_op_error(op, OFX_BAD_INPUT, "gathering from an empty axis");
  out[0] = in[1];
  out[0].data = NULL;
  out[0].dtype = in[0].dtype;
  return OFX_OK;
}

static void gather_elements_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const gather_state *s = op->state;
  size_t es = ofx_dtype_size(in[0].dtype);
  int64_t st[OFX_MAX_RANK], idx[OFX_MAX_RANK] = {0};
  strides_of(in[0].dims, in[0].rank, st);
  for (size_t e = 0, n = ofx_tensor_numel(&in[1]); e < n; e++) {
    int64_t off = 0;
    for (int d = 0; d < in[0].rank; d++)
      off += (d == s->axis ? fix_index(ofx_load_i64(in[1].data, in[1].dtype, e), in[0].dims[d]) : idx[d]) * st[d];
    memcpy((char *)out[0].data + e * es, (const char *)in[0].data + off * (int64_t)es, es);
    for (int d = in[1].rank - 1; d >= 0; d--) {
      if (++idx[d] < in[1].dims[d]) break;
      idx[d] = 0;
    }
  }
}

const ofx_op_def ofx_op_gather_elements = {.op_type = "GatherElements", .kind = OFX_OP_GatherElements,
                                           .init = gather_init, .reshape = gather_elements_reshape,
                                           .run = gather_elements_run};

/* Tile(input, repeats known at plan time) */
static ofx_status tile_init(ofx_op *op) {
  ofx_op_mark_input(op, 1, OFX_INPUT_PLAN);
  return OFX_OK;
}

static ofx_status tile_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(any_input(op, in, 0));
  if (!ofx_op_has_input(op, 1)) return ofx_op_error(op, OFX_BAD_MODEL, "repeats (input 1) is missing");
  int64_t reps[OFX_MAX_RANK];
  size_t n;
  OFX_TRY(ofx_read_ints_input(op, in, 1, "repeats", reps, OFX_MAX_RANK, &n));
  if (n != (size_t)in[0].rank) return ofx_op_error(op, OFX_BAD_MODEL, "repeats has %zu values, the input has rank %d", n, in[0].rank);
  out[0] = in[0];
  out[0].data = NULL;
  for (size_t i = 0; i < n; i++) {
    if (reps[i] < 0 || (reps[i] && in[0].dims[i] > ((int64_t)1 << 40) / reps[i])) return ofx_op_error(op, OFX_BAD_MODEL, "bad repeats");
    out[0].dims[i] = in[0].dims[i] * reps[i];
  }
  return OFX_OK;
}

static void tile_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  size_t es = ofx_dtype_size(in[0].dtype);
  int64_t st[OFX_MAX_RANK], idx[OFX_MAX_RANK] = {0};
  strides_of(in[0].dims, in[0].rank, st);
  for (size_t e = 0, n = ofx_tensor_numel(&out[0]); e < n; e++) {
    int64_t off = 0;
    for (int d = 0; d < in[0].rank; d++) off += (idx[d] % in[0].dims[d]) * st[d];
    memcpy((char *)out[0].data + e * es, (const char *)in[0].data + off * (int64_t)es, es);
    for (int d = out[0].rank - 1; d >= 0; d--) {
      if (++idx[d] < out[0].dims[d]) break;
      idx[d] = 0;
    }
  }
}

const ofx_op_def ofx_op_tile = {.op_type = "Tile", .kind = OFX_OP_Tile, .init = tile_init, .reshape = tile_reshape,
                                .run = tile_run, .trait_flags = OFX_TRAIT_NOT_SHAPE_ARITH};

/* Pad: attributes before opset 11 ('pads', 'value'), inputs since (pads, constant_value,
 * axes); modes constant, reflect, edge. */
typedef struct pad_state {
  int mode; /* 0 constant, 1 reflect, 2 edge */
  int64_t begin[OFX_MAX_RANK];
  uint8_t value[8];
} pad_state;

static ofx_status pad_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(pad_state)));
  pad_state *s = op->state;
  for (size_t k = 1; k <= 3; k++) ofx_op_mark_input(op, k, OFX_INPUT_PLAN);
  char mode[16];
  OFX_TRY(ofx_node_attr_string(op->node, "mode", "constant", mode, sizeof mode));
  if (strcmp(mode, "constant") == 0) s->mode = 0;
  else if (strcmp(mode, "reflect") == 0) s->mode = 1;
  else if (strcmp(mode, "edge") == 0) s->mode = 2;
  else return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'mode' is '%s'; constant, reflect and edge are supported", mode);
  return OFX_OK;
}

static ofx_status pad_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  pad_state *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  int rank = in[0].rank;
  int64_t pads[2 * OFX_MAX_RANK], axes[OFX_MAX_RANK];
  size_t n, n_axes = 0;
  double value = 0;
  if (op->opset < 11) {
    OFX_TRY(ofx_node_attr_ints(op->node, "pads", pads, 2 * OFX_MAX_RANK, &n));
    float v;
    OFX_TRY(ofx_node_attr_float(op->node, "value", 0.0f, &v));
    value = v;
  } else {
    if (!ofx_op_has_input(op, 1)) return ofx_op_error(op, OFX_BAD_MODEL, "pads (input 1) is missing");
    OFX_TRY(ofx_read_ints_input(op, in, 1, "pads", pads, 2 * OFX_MAX_RANK, &n));
    if (ofx_op_has_input(op, 2) && in[2].rank >= 0 && ofx_tensor_numel(&in[2]) > 0) {
      if (in[2].data == NULL) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "constant_value (input 2) must be known when planning");
      if (in[2].dtype != in[0].dtype) return ofx_op_error(op, OFX_BAD_MODEL, "constant_value must have the input's type");
      value = ofx_load_f64(in[2].data, in[2].dtype, 0);
    }
    if (ofx_op_has_input(op, 3)) OFX_TRY(ofx_read_ints_input(op, in, 3, "axes", axes, OFX_MAX_RANK, &n_axes));
  }
  size_t n_axes_used = n_axes ? n_axes : (size_t)rank;
  if (n != 2 * n_axes_used) return ofx_op_error(op, OFX_BAD_MODEL, "pads has %zu values, expected %zu", n, 2 * n_axes_used);
  memset(s->value, 0, sizeof s->value);
  if (!ofx_dtype_is_numeric(in[0].dtype)) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "type %s is not supported", onnx_dtype_name((int32_t)in[0].dtype));
  ofx_store_f64(s->value, in[0].dtype, 0, value);
  out[0] = in[0];
  out[0].data = NULL;
  int64_t end[OFX_MAX_RANK] = {0};
  memset(s->begin, 0, sizeof s->begin);
  for (size_t i = 0; i < n_axes_used; i++) {
    int a = (int)i;
    if (n_axes) OFX_TRY(ofx_op_axis_strict(op, "axis", axes[i], rank, &a));
    s->begin[a] = pads[i];
    end[a] = pads[i + n_axes_used];
  }
  for (int d = 0; d < rank; d++) {
    int64_t len = in[0].dims[d] + s->begin[d] + end[d];
    if (len < 0) return ofx_op_error(op, OFX_BAD_INPUT, "pads remove more than axis %d holds", d);
    if (s->mode != 0 && (s->begin[d] < 0 || end[d] < 0)) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "negative pads are only supported in constant mode");
    if (s->mode == 1 && (s->begin[d] >= in[0].dims[d] || end[d] >= in[0].dims[d]) && (s->begin[d] || end[d]))
      return ofx_op_error(op, OFX_BAD_INPUT, "reflect pads on axis %d must be smaller than its size %lld", d, (long long)in[0].dims[d]);
    if (s->mode == 2 && in[0].dims[d] == 0 && (s->begin[d] || end[d])) return ofx_op_error(op, OFX_BAD_INPUT, "edge-padding an empty axis");
    out[0].dims[d] = len;
  }
  return OFX_OK;
}

static void pad_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const pad_state *s = op->state;
  size_t es = ofx_dtype_size(in[0].dtype);
  int rank = in[0].rank;
  int64_t st[OFX_MAX_RANK], idx[OFX_MAX_RANK] = {0};
  strides_of(in[0].dims, rank, st);
  for (size_t e = 0, n = ofx_tensor_numel(&out[0]); e < n; e++) {
    int64_t off = 0;
    bool outside = false;
    for (int d = 0; d < rank; d++) {
      int64_t i = idx[d] - s->begin[d], len = in[0].dims[d];
      if (i < 0 || i >= len) {
        if (s->mode == 0) outside = true;
        else if (s->mode == 2) i = i < 0 ? 0 : len - 1;
        else {
          int64_t period = 2 * (len - 1);
          i = period ? ((i % period) + period) % period : 0;
          if (i >= len) i = period - i;
        }
      }
      off += i * st[d];
    }
    memcpy((char *)out[0].data + e * es, outside ? (const char *)s->value : (const char *)in[0].data + off * (int64_t)es, es);
    for (int d = rank - 1; d >= 0; d--) {
      if (++idx[d] < out[0].dims[d]) break;
      idx[d] = 0;
    }
  }
}

const ofx_op_def ofx_op_pad = {.op_type = "Pad", .kind = OFX_OP_Pad, .init = pad_init, .reshape = pad_reshape,
                               .run = pad_run};

/* DepthToSpace (DCR/CRD) and SpaceToDepth as 6-D transposes. */
static ofx_status depth_space_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  strided *s = op->state;
  OFX_TRY(any_input(op, in, 0));
  if (in[0].rank != 4) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 4");
  int64_t b;
  if (!ofx_node_has_attr(op->node, "blocksize")) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'blocksize' is required");
  OFX_TRY(ofx_node_attr_int(op->node, "blocksize", 0, &b));
  if (b <= 0) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'blocksize' must be positive");
  int64_t N = in[0].dims[0], C = in[0].dims[1], H = in[0].dims[2], W = in[0].dims[3];
  int64_t v[6], perm[6];
  bool to_space = op->def->kind == OFX_OP_DepthToSpace;
  out[0].dtype = in[0].dtype;
  out[0].rank = 4;
  if (to_space) {
    if (C % (b * b)) return ofx_op_error(op, OFX_BAD_INPUT, "channels must divide by blocksize^2");
    char mode[8];
    OFX_TRY(ofx_node_attr_string(op->node, "mode", "DCR", mode, sizeof mode));
    if (strcmp(mode, "DCR") == 0) {
      int64_t vv[6] = {N, b, b, C / (b * b), H, W}, pp[6] = {0, 3, 4, 1, 5, 2};
      memcpy(v, vv, sizeof v);
      memcpy(perm, pp, sizeof perm);
    } else if (strcmp(mode, "CRD") == 0) {
      int64_t vv[6] = {N, C / (b * b), b, b, H, W}, pp[6] = {0, 1, 4, 2, 5, 3};
      memcpy(v, vv, sizeof v);
      memcpy(perm, pp, sizeof perm);
    } else {
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'mode' must be DCR or CRD, got '%s'", mode);
    }
    int64_t o[4] = {N, C / (b * b), H * b, W * b};
    memcpy(out[0].dims, o, sizeof o);
  } else {
    if (H % b || W % b) return ofx_op_error(op, OFX_BAD_INPUT, "height and width must divide by blocksize");
    int64_t vv[6] = {N, C, H / b, b, W / b, b}, pp[6] = {0, 3, 5, 1, 2, 4};
    memcpy(v, vv, sizeof v);
    memcpy(perm, pp, sizeof perm);
    int64_t o[4] = {N, C * b * b, H / b, W / b};
    memcpy(out[0].dims, o, sizeof o);
  }
  int64_t st[6];
  strides_of(v, 6, st);
  s->rank = 6;
  s->base = 0;
  for (int i = 0; i < 6; i++) {
    s->dims[i] = v[perm[i]];
    s->step[i] = st[perm[i]];
  }
  return OFX_OK;
}

const ofx_op_def ofx_op_depth_to_space = {.op_type = "DepthToSpace", .kind = OFX_OP_DepthToSpace,
                                          .init = strided_init, .reshape = depth_space_reshape, .run = strided_run};
const ofx_op_def ofx_op_space_to_depth = {.op_type = "SpaceToDepth", .kind = OFX_OP_SpaceToDepth,
                                          .init = strided_init, .reshape = depth_space_reshape, .run = strided_run};
