/* Resize (opsets 10, 11, 13, 18) and Upsample (opsets 7-9), float32, any rank.
 *
 * Modes nearest (all nearest_mode values), linear and cubic (cubic_coeff_a, exclude_outside);
 * coordinate_transformation_mode half_pixel, half_pixel_symmetric, pytorch_half_pixel,
 * align_corners, asymmetric, tf_half_pixel_for_nn and tf_crop_and_resize (roi,
 * extrapolation_value); scales or sizes inputs, opset 18's axes and keep_aspect_ratio_policy.
 * antialias is not supported.
 *
 * Scales, sizes and roi must be known when planning (constants or computed from shapes): the
 * output shape depends on them. Linear and cubic interpolation are tensor products of 1-D
 * filters, and nearest picks each coordinate independently, so the op runs as one 1-D pass per
 * resized axis: each output index along the axis gets up to four (input index, weight) taps,
 * computed at reshape, and the pass mixes whole inner rows with them. Passes ping-pong through
 * scratch. Resize-10 and Upsample use the asymmetric transform and, for nearest, the
 * floor-when-upsampling / ceil-when-downsampling rule onnxruntime applies to those opsets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef enum resize_mode { MODE_NEAREST, MODE_LINEAR, MODE_CUBIC } resize_mode;
typedef enum coord_mode {
  CT_HALF_PIXEL,
  CT_HALF_PIXEL_SYMMETRIC,
  CT_PYTORCH_HALF_PIXEL,
  CT_ALIGN_CORNERS,
  CT_ASYMMETRIC,
  CT_TF_HALF_PIXEL_FOR_NN,
  CT_TF_CROP_AND_RESIZE,
} coord_mode;
typedef enum nearest_mode { NN_ROUND_PREFER_FLOOR, NN_ROUND_PREFER_CEIL, NN_FLOOR, NN_CEIL, NN_SIMPLE } nearest_mode;
typedef enum aspect_policy { ASPECT_STRETCH, ASPECT_NOT_LARGER, ASPECT_NOT_SMALLER } aspect_policy;

#define MAX_TAPS 4

typedef struct axis_pass {
  int axis;
  size_t outer, in_len, out_len, inner;
  int32_t *index;  /* [out_len][MAX_TAPS]; -1: tap unused */
  float *weight;   /* [out_len][MAX_TAPS] */
  uint8_t *extrapolate; /* [out_len]: the output is extrapolation_value */
} axis_pass;

typedef struct resize_state {
  bool upsample;   /* Upsample, or Resize-10: asymmetric, simple nearest */
  resize_mode mode;
  coord_mode coord;
  nearest_mode nearest;
  aspect_policy aspect;
  float cubic_a, extrapolation_value;
  bool exclude_outside;
  int64_t axes[OFX_MAX_RANK];
  size_t n_axes; /* 0: all axes */
  int scales_input, sizes_input, roi_input; /* -1 when the opset has no such input */
  int n_passes;
  axis_pass passes[OFX_MAX_RANK];
  size_t max_elems; /* largest intermediate, for scratch */
} resize_state;

static void resize_destroy(ofx_op *op) {
  resize_state *s = op->state;
  if (s == NULL) return;
  for (int i = 0; i < OFX_MAX_RANK; i++) {
    free(s->passes[i].index);
    free(s->passes[i].weight);
    free(s->passes[i].extrapolate);
  }
  free(s);
}

static ofx_status parse_mode(ofx_op *op, resize_state *s) {
  char buf[64];
  OFX_TRY(ofx_node_attr_string(op->node, "mode", "nearest", buf, sizeof buf));
  if (strcmp(buf, "nearest") == 0) s->mode = MODE_NEAREST;
  else if (strcmp(buf, "linear") == 0 || strcmp(buf, "bilinear") == 0 || strcmp(buf, "trilinear") == 0) s->mode = MODE_LINEAR;
  else if (strcmp(buf, "cubic") == 0 || strcmp(buf, "bicubic") == 0) s->mode = MODE_CUBIC;
  else return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'mode' has unknown value '%s'", buf);
  return OFX_OK;
}

static ofx_status resize_init_common(ofx_op *op, bool upsample_op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(resize_state)));
  resize_state *s = op->state;
  s->scales_input = s->sizes_input = s->roi_input = -1;
  s->cubic_a = -0.75f;
  OFX_TRY(parse_mode(op, s));
  if (upsample_op || op->opset < 11) {
    s->upsample = true;
    s->coord = CT_ASYMMETRIC;
    s->nearest = NN_SIMPLE;
    if (s->mode == MODE_CUBIC)
      return ofx_op_error(op, OFX_BAD_MODEL, "mode 'cubic' needs Resize opset 11 or later");
    if (upsample_op && op->opset < 9) {
      return OFX_OK; /* the 'scales' attribute is read by reshape */
    }
    s->scales_input = 1;
  } else {
    s->roi_input = 1;
    s->scales_input = 2;
    s->sizes_input = 3;
    char buf[64];
    OFX_TRY(ofx_node_attr_string(op->node, "coordinate_transformation_mode", "half_pixel", buf, sizeof buf));
    static const char *const coords[] = {"half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners",
                                         "asymmetric", "tf_half_pixel_for_nn", "tf_crop_and_resize"};
    int found = -1;
    for (int i = 0; i < 7; i++)
      if (strcmp(buf, coords[i]) == 0) found = i;
    if (found < 0) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'coordinate_transformation_mode' has unknown value '%s'", buf);
    s->coord = (coord_mode)found;
    OFX_TRY(ofx_node_attr_string(op->node, "nearest_mode", "round_prefer_floor", buf, sizeof buf));
    static const char *const nearest[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
    found = -1;
    for (int i = 0; i < 4; i++)
      if (strcmp(buf, nearest[i]) == 0) found = i;
    if (found < 0) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'nearest_mode' has unknown value '%s'", buf);
    s->nearest = (nearest_mode)found;
    OFX_TRY(ofx_node_attr_float(op->node, "cubic_coeff_a", -0.75f, &s->cubic_a));
    OFX_TRY(ofx_node_attr_float(op->node, "extrapolation_value", 0.0f, &s->extrapolation_value));
    int64_t v;
    OFX_TRY(ofx_node_attr_int(op->node, "exclude_outside", 0, &v));
    s->exclude_outside = v != 0;
    OFX_TRY(ofx_node_attr_int(op->node, "antialias", 0, &v));
    if (v != 0) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'antialias' is not supported");
    OFX_TRY(ofx_node_attr_ints(op->node, "axes", s->axes, OFX_MAX_RANK, &s->n_axes));
    OFX_TRY(ofx_node_attr_string(op->node, "keep_aspect_ratio_policy", "stretch", buf, sizeof buf));
    if (strcmp(buf, "stretch") == 0) s->aspect = ASPECT_STRETCH;
    else if (strcmp(buf, "not_larger") == 0) s->aspect = ASPECT_NOT_LARGER;
    else if (strcmp(buf, "not_smaller") == 0) s->aspect = ASPECT_NOT_SMALLER;
    else return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'keep_aspect_ratio_policy' has unknown value '%s'", buf);
  }
  for (size_t k = 1; k <= 3; k++) ofx_op_mark_input(op, k, OFX_INPUT_PLAN);
  return OFX_OK;
}

static ofx_status resize_init(ofx_op *op) { return resize_init_common(op, false); }
static ofx_status upsample_init(ofx_op *op) { return resize_init_common(op, true); }

/* Reads a float input known at plan time (scales, roi). */
static ofx_status read_floats_input(const ofx_op *op, const ofx_tensor *t, size_t k, const char *what, double *out,
                                    size_t capacity, size_t *count) {
  if (t->dtype != OFX_DTYPE_FLOAT32 && t->dtype != OFX_DTYPE_DOUBLE)
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be float32, it is %s", k, what, onnx_dtype_name((int32_t)t->dtype));
  if (t->rank > 1) return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be 1-D, it has rank %d", k, what, t->rank);
  size_t n = ofx_tensor_numel(t);
  if (n > capacity)
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) has %zu values, expected at most %zu", k, what, n, capacity);
  if (n > 0 && t->data == NULL)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP,
                        "input %zu (%s) must be known when planning: a constant or computed from shapes", k, what);
  for (size_t i = 0; i < n; i++) out[i] = ofx_load_f64(t->data, t->dtype, i);
  *count = n;
  return OFX_OK;
}

static bool present(const ofx_tensor *in, int k, int n_inputs) { return k >= 0 && k < n_inputs && in[k].rank >= 0; }

/* Input coordinate of output index x along an axis. */
/* out_len is the output dim, as onnxruntime and PyTorch use it (ONNX 1.12's reference uses
 * in_len * scale unrounded; reshape refuses the cases where the two differ). */
static double original_coordinate(const resize_state *s, double x, double scale, size_t in_len, double out_len,
                                  double roi_start, double roi_end) {
  switch (s->coord) {
    case CT_HALF_PIXEL: return (x + 0.5) / scale - 0.5;
    case CT_HALF_PIXEL_SYMMETRIC: {
      double adjustment = out_len / (scale * (double)in_len);
      double center = (double)in_len / 2;
      return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
    }
    case CT_PYTORCH_HALF_PIXEL: return out_len > 1 ? (x + 0.5) / scale - 0.5 : 0.0;
    case CT_ALIGN_CORNERS: return out_len == 1 ? 0.0 : x * (double)(in_len - 1) / (out_len - 1);
    case CT_ASYMMETRIC: return x / scale;
    case CT_TF_HALF_PIXEL_FOR_NN: return (x + 0.5) / scale;
    case CT_TF_CROP_AND_RESIZE:
      return out_len > 1 ? roi_start * (double)(in_len - 1) + x * (roi_end - roi_start) * (double)(in_len - 1) / (out_len - 1)
                         : 0.5 * (roi_start + roi_end) * (double)(in_len - 1);
  }
  return x;
}

static int64_t nearest_index(const resize_state *s, double x, double scale) {
  switch (s->nearest) {
    case NN_ROUND_PREFER_FLOOR: return x == floor(x) + 0.5 ? (int64_t)floor(x) : (int64_t)llround(x);
    case NN_ROUND_PREFER_CEIL: return x == floor(x) + 0.5 ? (int64_t)ceil(x) : (int64_t)llround(x);
    case NN_FLOOR: return (int64_t)floor(x);
    case NN_CEIL: return (int64_t)ceil(x);
    case NN_SIMPLE: return scale < 1 ? (int64_t)ceil(x) : (int64_t)x;
  }
  return 0;
}

static void cubic_weights(double r, double a, double w[4]) {
  double t[4] = {r + 1, r, 1 - r, 2 - r};
  for (int i = 0; i < 4; i++) {
    double d = t[i];
    w[i] = d <= 1 ? ((a + 2) * d - (a + 3)) * d * d + 1 : ((a * d - 5 * a) * d + 8 * a) * d - 4 * a;
  }
}

static ofx_status build_pass(ofx_op *op, const resize_state *s, axis_pass *p, double scale, double roi_start,
                             double roi_end) {
  free(p->index);
  free(p->weight);
  free(p->extrapolate);
  p->index = malloc(p->out_len * MAX_TAPS * sizeof *p->index);
  p->weight = malloc(p->out_len * MAX_TAPS * sizeof *p->weight);
  p->extrapolate = calloc(p->out_len ? p->out_len : 1, 1);
  if (!p->index || !p->weight || !p->extrapolate) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
  const int64_t n = (int64_t)p->in_len;
  for (size_t o = 0; o < p->out_len; o++) {
    int32_t *idx = p->index + o * MAX_TAPS;
    float *w = p->weight + o * MAX_TAPS;
    for (int t = 0; t < MAX_TAPS; t++) idx[t] = -1, w[t] = 0;
    double x = original_coordinate(s, (double)o, scale, p->in_len, (double)p->out_len, roi_start, roi_end);
    if (s->coord == CT_TF_CROP_AND_RESIZE && (x < 0 || x > (double)(n - 1))) {
      p->extrapolate[o] = 1;
      continue;
    }
    if (s->mode == MODE_NEAREST) {
      int64_t i = nearest_index(s, x, scale);
      idx[0] = (int32_t)(i < 0 ? 0 : i >= n ? n - 1 : i);
      w[0] = 1;
    } else if (s->mode == MODE_LINEAR) {
      double c = x < 0 ? 0 : x > (double)(n - 1) ? (double)(n - 1) : x;
      int64_t i0 = (int64_t)floor(c);
      int64_t i1 = i0 + 1 < n ? i0 + 1 : n - 1;
      double r = c - (double)i0;
      idx[0] = (int32_t)i0, w[0] = (float)(1 - r);
      idx[1] = (int32_t)i1, w[1] = (float)r;
    } else {
      double f = floor(x), cw[4], sum = 0;
      cubic_weights(x - f, s->cubic_a, cw);
      for (int t = 0; t < 4; t++) {
        int64_t i = (int64_t)f - 1 + t;
        if (s->exclude_outside && (i < 0 || i >= n)) cw[t] = 0;
        sum += cw[t];
        idx[t] = (int32_t)(i < 0 ? 0 : i >= n ? n - 1 : i);
      }
      for (int t = 0; t < 4; t++) w[t] = (float)(s->exclude_outside && sum != 0 ? cw[t] / sum : cw[t]);
    }
  }
  return OFX_OK;
}

static ofx_status resize_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  resize_state *s = op->state;
  const int n_inputs = (int)op->node->n_inputs;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  const int rank = in[0].rank;
  if (rank < 1) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 1 or more");
  /* the axes scales/sizes/roi refer to */
  int axes[OFX_MAX_RANK], n_axes = rank;
  for (int i = 0; i < rank; i++) axes[i] = i;
  if (s->n_axes) {
    n_axes = (int)s->n_axes;
    for (int i = 0; i < n_axes; i++) {
      OFX_TRY(ofx_op_axis_strict(op, "axes value", s->axes[i], rank, &axes[i]));
      for (int j = 0; j < i; j++)
        if (axes[j] == axes[i]) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'axes' repeats axis %d", axes[i]);
    }
  }
  double scales[OFX_MAX_RANK], roi[2 * OFX_MAX_RANK];
  int64_t out_dims[OFX_MAX_RANK];
  size_t n_scales = 0, n_sizes = 0, n_roi = 0;
  int64_t sizes[OFX_MAX_RANK];
  for (int i = 0; i < rank; i++) scales[i] = 1, roi[i] = 0, roi[i + rank] = 1, out_dims[i] = in[0].dims[i];
  double given_scales[OFX_MAX_RANK], given_roi[2 * OFX_MAX_RANK];
  if (s->upsample && s->scales_input < 0) {
    /* Upsample-7: 'scales' is a floats attribute */
    if (!ofx_node_has_attr(op->node, "scales")) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'scales' is required");
    float fs[OFX_MAX_RANK];
    OFX_TRY(ofx_node_attr_floats(op->node, "scales", fs, OFX_MAX_RANK, &n_scales));
    for (size_t i = 0; i < n_scales; i++) given_scales[i] = fs[i];
    if (n_scales == 0) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'scales' is empty");
  }
  if (present(in, s->scales_input, n_inputs)) {
    OFX_TRY(read_floats_input(op, &in[s->scales_input], (size_t)s->scales_input, "scales", given_scales, OFX_MAX_RANK, &n_scales));
  }
  if (present(in, s->sizes_input, n_inputs)) {
    OFX_TRY(ofx_read_ints_input(op, in, (size_t)s->sizes_input, "sizes", sizes, OFX_MAX_RANK, &n_sizes));
  }
  if (present(in, s->roi_input, n_inputs) && s->coord == CT_TF_CROP_AND_RESIZE) {
    OFX_TRY(read_floats_input(op, &in[s->roi_input], (size_t)s->roi_input, "roi", given_roi, 2 * OFX_MAX_RANK, &n_roi));
    if (n_roi != 2 * (size_t)n_axes)
      return ofx_op_error(op, OFX_BAD_MODEL, "input 1 (roi) has %zu values, expected %d", n_roi, 2 * n_axes);
    for (int i = 0; i < n_axes; i++) roi[axes[i]] = given_roi[i], roi[axes[i] + rank] = given_roi[i + n_axes];
  }
  if ((n_scales > 0) == (n_sizes > 0))
    return ofx_op_error(op, OFX_BAD_MODEL, "exactly one of 'scales' and 'sizes' must be given (got %zu scales, %zu sizes)",
                        n_scales, n_sizes);
  if (n_scales) {
    if (n_scales != (size_t)n_axes)
      return ofx_op_error(op, OFX_BAD_MODEL, "'scales' has %zu values, the input has rank %d", n_scales, n_axes);
    for (int i = 0; i < n_axes; i++) {
      double sc = given_scales[i];
      if (!(sc > 0) || sc > 1e6)
        return ofx_op_error(op, OFX_BAD_MODEL, "'scales' value %g must be positive and at most 1e6", sc);
      if (op->def->kind == OFX_OP_Upsample && sc < 1)
        return ofx_op_error(op, OFX_BAD_MODEL, "Upsample 'scales' value %g must be at least 1", sc);
      int a = axes[i];
      scales[a] = sc;
      /* in float, as onnxruntime does: 10 * 0.7f is 7, not 6.99999988 */
      float length = (float)in[0].dims[a] * (float)sc;
      double d = floor((double)length);
      if ((s->coord == CT_ALIGN_CORNERS || s->coord == CT_TF_CROP_AND_RESIZE) && d != (double)length)
        return ofx_op_error(op, OFX_UNSUPPORTED_OP,
                            "'scales' value %g on axis %d gives a fractional length (%g) with %s: onnxruntime and PyTorch "
                            "map coordinates with the rounded output length, ONNX's reference with the fractional one",
                            sc, a, (double)length,
                            s->coord == CT_ALIGN_CORNERS ? "align_corners" : "tf_crop_and_resize");
      if (d > (double)INT32_MAX) return ofx_op_error(op, OFX_BAD_INPUT, "output dim %d would be %g: too large", a, d);
      out_dims[a] = (int64_t)d;
    }
  } else {
    if (n_sizes != (size_t)n_axes)
      return ofx_op_error(op, OFX_BAD_MODEL, "'sizes' has %zu values, the input has rank %d", n_sizes, n_axes);
    for (int i = 0; i < n_axes; i++)
      if (sizes[i] < 0 || sizes[i] > INT32_MAX)
        return ofx_op_error(op, OFX_BAD_MODEL, "'sizes' value %lld is out of range", (long long)sizes[i]);
    if (s->aspect == ASPECT_STRETCH) {
      for (int i = 0; i < n_axes; i++) {
        int a = axes[i];
        out_dims[a] = sizes[i];
        scales[a] = in[0].dims[a] ? (double)sizes[i] / (double)in[0].dims[a] : 1.0;
      }
    } else {
      double sc = s->aspect == ASPECT_NOT_LARGER ? INFINITY : 0;
      for (int i = 0; i < n_axes; i++) {
        double r = in[0].dims[axes[i]] ? (double)sizes[i] / (double)in[0].dims[axes[i]] : 1.0;
        sc = s->aspect == ASPECT_NOT_LARGER ? fmin(sc, r) : fmax(sc, r);
      }
      for (int i = 0; i < n_axes; i++) {
        int a = axes[i];
        scales[a] = sc;
        out_dims[a] = (int64_t)floor(sc * (double)in[0].dims[a] + 0.5);
      }
    }
  }
  out[0] = in[0];
  out[0].data = NULL;
  out[0].layout = OFX_LAYOUT_NCHW;
  for (int i = 0; i < rank; i++) out[0].dims[i] = out_dims[i];
  if (ofx_tensor_numel(&in[0]) == 0 || ofx_tensor_numel(&out[0]) == 0) {
    s->n_passes = 0;
    op->scratch_bytes = 0;
    return OFX_OK;
  }
  if (in[0].dims[0] > INT32_MAX) return ofx_op_error(op, OFX_BAD_INPUT, "input too large");
  for (int i = 0; i < rank; i++)
    if (in[0].dims[i] > INT32_MAX) return ofx_op_error(op, OFX_BAD_INPUT, "input dim %d is too large", i);
  /* one pass per axis that changes; the current shape evolves pass by pass */
  int64_t cur[OFX_MAX_RANK];
  memcpy(cur, in[0].dims, sizeof cur);
  s->n_passes = 0;
  s->max_elems = 0;
  for (int a = 0; a < rank; a++) {
    bool identity = cur[a] == out_dims[a] && scales[a] == 1.0 && s->coord != CT_TF_CROP_AND_RESIZE;
    if (identity) continue;
    axis_pass *p = &s->passes[s->n_passes];
    p->axis = a;
    p->outer = 1, p->inner = 1;
    for (int i = 0; i < a; i++) p->outer *= (size_t)cur[i];
    for (int i = a + 1; i < rank; i++) p->inner *= (size_t)cur[i];
    p->in_len = (size_t)cur[a];
    p->out_len = (size_t)out_dims[a];
    cur[a] = out_dims[a];
    size_t elems; /* bounds the tap tables and scratch below too */
    if (!ofx_shape_numel(cur, rank, &elems) || elems > SIZE_MAX / 32)
      return ofx_op_error(op, OFX_BAD_INPUT, "the resized tensor would be too large");
    OFX_TRY(build_pass(op, s, p, scales[a], roi[a], roi[a + rank]));
    if (elems > s->max_elems) s->max_elems = elems;
    s->n_passes++;
  }
  /* two intermediates at most (the last pass writes the output) */
  op->scratch_bytes = s->n_passes > 1 ? 2 * ((s->max_elems * sizeof(float) + 15) & ~(size_t)15) : 0;
  return OFX_OK;
}

static void run_pass(const resize_state *s, const axis_pass *p, const float *x, float *y) {
  const size_t inner = p->inner;
  for (size_t o = 0; o < p->outer; o++) {
    const float *xo = x + o * p->in_len * inner;
    float *yo = y + o * p->out_len * inner;
    for (size_t j = 0; j < p->out_len; j++) {
      float *row = yo + j * inner;
      if (p->extrapolate[j]) {
        for (size_t i = 0; i < inner; i++) row[i] = s->extrapolation_value;
        continue;
      }
      const int32_t *idx = p->index + j * MAX_TAPS;
      const float *w = p->weight + j * MAX_TAPS;
      if (s->mode == MODE_NEAREST) {
        memcpy(row, xo + (size_t)idx[0] * inner, inner * sizeof(float));
        continue;
      }
      for (size_t i = 0; i < inner; i++) row[i] = 0;
      for (int t = 0; t < MAX_TAPS; t++) {
        if (idx[t] < 0) continue;
        const float *src = xo + (size_t)idx[t] * inner;
        const float wt = w[t];
        for (size_t i = 0; i < inner; i++) row[i] += wt * src[i];
      }
    }
  }
}

static void resize_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const resize_state *s = op->state;
  size_t n = ofx_tensor_numel(&out[0]);
  if (n == 0) return;
  if (s->n_passes == 0) {
    memcpy(out[0].data, in[0].data, n * sizeof(float));
    return;
  }
  size_t half = ((s->max_elems * sizeof(float) + 15) & ~(size_t)15);
  float *buf[2] = {(float *)ctx->scratch, (float *)((char *)ctx->scratch + half)};
  const float *x = in[0].data;
  for (int i = 0; i < s->n_passes; i++) {
    float *y = i == s->n_passes - 1 ? (float *)out[0].data : buf[i & 1];
    run_pass(s, &s->passes[i], x, y);
    x = y;
  }
}

const ofx_op_def ofx_op_resize = {.op_type = "Resize", .kind = OFX_OP_Resize, .init = resize_init,
                                  .reshape = resize_reshape, .run = resize_run, .destroy = resize_destroy};
const ofx_op_def ofx_op_upsample = {.op_type = "Upsample", .kind = OFX_OP_Upsample, .init = upsample_init,
                                    .reshape = resize_reshape, .run = resize_run, .destroy = resize_destroy};
