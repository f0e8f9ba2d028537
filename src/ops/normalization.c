/* Normalizations (float32): BatchNormalization (inference), InstanceNormalization,
 * LayerNormalization, LRN, MeanVarianceNormalization. Parameters are read at run time (they
 * are usually constants, but the conformance tests feed them as inputs). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef struct norm_state {
  float epsilon, alpha, beta, bias;
  int64_t size;
  int axis;
  size_t outer, channels, inner;
  bool axes[OFX_MAX_RANK];
} norm_state;

/* Checks that input k is float32 with `count` elements. */
static ofx_status check_param(const ofx_op *op, const ofx_tensor *in, size_t k, size_t count) {
  OFX_TRY(ofx_op_check_input(op, in, k, OFX_DTYPE_FLOAT32, -1));
  if (ofx_tensor_numel(&in[k]) != count)
    return ofx_op_error(op, OFX_BAD_INPUT, "input %zu has %zu elements, expected %zu", k, ofx_tensor_numel(&in[k]), count);
  return OFX_OK;
}

static ofx_status channels_layout(norm_state *s, const ofx_tensor *x) {
  s->outer = (size_t)x->dims[0];
  s->channels = x->rank > 1 ? (size_t)x->dims[1] : 1;
  s->inner = 1;
  for (int d = 2; d < x->rank; d++) s->inner *= (size_t)x->dims[d];
  return OFX_OK;
}

static ofx_status batch_norm_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(norm_state)));
  norm_state *s = op->state;
  OFX_TRY(ofx_node_attr_float(op->node, "epsilon", 1e-5f, &s->epsilon));
  int64_t training, spatial;
  OFX_TRY(ofx_node_attr_int(op->node, "training_mode", 0, &training));
  OFX_TRY(ofx_node_attr_int(op->node, "spatial", 1, &spatial));
  size_t outputs = 0;
  for (size_t k = 0; k < op->node->n_outputs; k++) outputs += op->node->outputs[k] >= 0;
  if (training || outputs > 1)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "training mode (attribute 'training_mode' or running statistics outputs) is not supported");
  if (!spatial) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'spatial' = 0 is not supported");
  return OFX_OK;
}

static ofx_status batch_norm_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  norm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  if (in[0].rank < 2) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 2 or more");
  channels_layout(s, &in[0]);
  for (size_t k = 1; k < 5; k++) OFX_TRY(check_param(op, in, k, s->channels));
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

static void batch_norm_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const norm_state *s = op->state;
  const float *x = in[0].data, *scale = in[1].data, *bias = in[2].data, *mean = in[3].data, *var = in[4].data;
  float *y = out[0].data;
  for (size_t n = 0; n < s->outer; n++)
    for (size_t c = 0; c < s->channels; c++) {
      float a = scale[c] / sqrtf(var[c] + s->epsilon), b = bias[c] - mean[c] * a;
      size_t base = (n * s->channels + c) * s->inner;
      for (size_t i = 0; i < s->inner; i++) y[base + i] = x[base + i] * a + b;
    }
}

const ofx_op_def ofx_op_batch_normalization = {.op_type = "BatchNormalization", .kind = OFX_OP_BatchNormalization,
                                               .init = batch_norm_init, .reshape = batch_norm_reshape,
                                               .run = batch_norm_run};

static ofx_status instance_norm_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(norm_state)));
  norm_state *s = op->state;
  return ofx_node_attr_float(op->node, "epsilon", 1e-5f, &s->epsilon);
}

static ofx_status instance_norm_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  norm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  if (in[0].rank < 3) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 3 or more");
  channels_layout(s, &in[0]);
  for (size_t k = 1; k < 3; k++) OFX_TRY(check_param(op, in, k, s->channels));
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

/* Normalizes n values spaced by stride: y = (x - mean) / sqrt(var + eps) * a + b. */
static void normalize(const float *x, float *y, size_t n, size_t stride, float eps, const float *a, const float *b, size_t ab_stride) {
  double mean = 0, var = 0;
  for (size_t i = 0; i < n; i++) mean += x[i * stride];
  mean /= (double)(n ? n : 1);
  for (size_t i = 0; i < n; i++) var += (x[i * stride] - mean) * (x[i * stride] - mean);
  var /= (double)(n ? n : 1);
  double inv = 1.0 / sqrt(var + eps);
  for (size_t i = 0; i < n; i++) {
    double v = (x[i * stride] - mean) * inv;
    if (a) v *= a[i * ab_stride];
    if (b) v += b[i * ab_stride];
    y[i * stride] = (float)v;
  }
}

static void instance_norm_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const norm_state *s = op->state;
  const float *scale = in[1].data, *bias = in[2].data;
  for (size_t n = 0; n < s->outer; n++)
    for (size_t c = 0; c < s->channels; c++) {
      size_t base = (n * s->channels + c) * s->inner;
      float a = scale[c], b = bias[c];
      normalize((const float *)in[0].data + base, (float *)out[0].data + base, s->inner, 1, s->epsilon, NULL, NULL, 0);
      for (size_t i = 0; i < s->inner; i++) ((float *)out[0].data)[base + i] = ((float *)out[0].data)[base + i] * a + b;
    }
}

const ofx_op_def ofx_op_instance_normalization = {.op_type = "InstanceNormalization",
                                                  .kind = OFX_OP_InstanceNormalization, .init = instance_norm_init,
                                                  .reshape = instance_norm_reshape, .run = instance_norm_run};

/* LayerNormalization: normalize over axes [axis, rank); scale and bias broadcast over them.
 * The Mean and InvStdDev outputs are computed too when requested. */
static ofx_status layer_norm_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(norm_state)));
  norm_state *s = op->state;
  int64_t stash;
  OFX_TRY(ofx_node_attr_int(op->node, "stash_type", 1, &stash));
  if (stash != 1) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "attribute 'stash_type' must be 1 (float32)");
  return ofx_node_attr_float(op->node, "epsilon", 1e-5f, &s->epsilon);
}

static ofx_status layer_norm_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  norm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  int64_t axis_attr;
  OFX_TRY(ofx_node_attr_int(op->node, "axis", -1, &axis_attr));
  OFX_TRY(ofx_op_axis_strict(op, "attribute 'axis'", axis_attr, in[0].rank, &s->axis));
  s->outer = 1;
  s->inner = 1;
  for (int d = 0; d < in[0].rank; d++) *(d < s->axis ? &s->outer : &s->inner) *= (size_t)in[0].dims[d];
  /* scale/bias must be the normalized shape, possibly with leading 1s removed: full element count */
  OFX_TRY(check_param(op, in, 1, s->inner));
  if (ofx_op_has_input(op, 2)) OFX_TRY(check_param(op, in, 2, s->inner));
  out[0] = in[0];
  out[0].data = NULL;
  for (size_t k = 1; k < op->node->n_outputs && k < 3; k++) {
    out[k] = in[0];
    out[k].data = NULL;
    for (int d = s->axis; d < in[0].rank; d++) out[k].dims[d] = 1;
  }
  return OFX_OK;
}

static void layer_norm_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const norm_state *s = op->state;
  const float *b = ofx_op_has_input(op, 2) ? in[2].data : NULL;
  for (size_t o = 0; o < s->outer; o++) {
    const float *x = (const float *)in[0].data + o * s->inner;
    normalize(x, (float *)out[0].data + o * s->inner, s->inner, 1, s->epsilon, in[1].data, b, 1);
    if ((op->node->n_outputs > 1 && out[1].data) || (op->node->n_outputs > 2 && out[2].data)) {
      double mean = 0, var = 0;
      for (size_t i = 0; i < s->inner; i++) mean += x[i];
      mean /= (double)(s->inner ? s->inner : 1);
      for (size_t i = 0; i < s->inner; i++) var += (x[i] - mean) * (x[i] - mean);
      var /= (double)(s->inner ? s->inner : 1);
      if (op->node->n_outputs > 1 && out[1].data) ((float *)out[1].data)[o] = (float)mean;
      if (op->node->n_outputs > 2 && out[2].data) ((float *)out[2].data)[o] = (float)(1.0 / sqrt(var + s->epsilon));
    }
  }
}

const ofx_op_def ofx_op_layer_normalization = {.op_type = "LayerNormalization", .kind = OFX_OP_LayerNormalization,
                                               .init = layer_norm_init, .reshape = layer_norm_reshape,
                                               .run = layer_norm_run, .torch_name = "layer_norm"};

/* LRN across channels (NCHW...). */
static ofx_status lrn_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(norm_state)));
  norm_state *s = op->state;
  OFX_TRY(ofx_node_attr_float(op->node, "alpha", 1e-4f, &s->alpha));
  OFX_TRY(ofx_node_attr_float(op->node, "beta", 0.75f, &s->beta));
  OFX_TRY(ofx_node_attr_float(op->node, "bias", 1.0f, &s->bias));
  if (!ofx_node_has_attr(op->node, "size")) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'size' is required");
  OFX_TRY(ofx_node_attr_int(op->node, "size", 1, &s->size));
  if (s->size <= 0) return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'size' must be positive");
  return OFX_OK;
}

static ofx_status lrn_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  norm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  if (in[0].rank < 3) return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 3 or more");
  channels_layout(s, &in[0]);
  out[0] = in[0];
  out[0].data = NULL;
  return OFX_OK;
}

static void lrn_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const norm_state *s = op->state;
  const float *x = in[0].data;
  float *y = out[0].data;
  int64_t lo = (s->size - 1) / 2, hi = s->size - 1 - lo, C = (int64_t)s->channels;
  for (size_t n = 0; n < s->outer; n++)
    for (int64_t c = 0; c < C; c++)
      for (size_t i = 0; i < s->inner; i++) {
        double sq = 0;
        for (int64_t k = c - lo < 0 ? 0 : c - lo; k <= c + hi && k < C; k++) {
          float v = x[(n * s->channels + (size_t)k) * s->inner + i];
          sq += (double)v * v;
        }
        size_t at = (n * s->channels + (size_t)c) * s->inner + i;
        y[at] = (float)(x[at] / pow(s->bias + s->alpha / (double)s->size * sq, s->beta));
      }
}

const ofx_op_def ofx_op_lrn = {.op_type = "LRN", .kind = OFX_OP_LRN, .init = lrn_init, .reshape = lrn_reshape,
                               .run = lrn_run};

/* MeanVarianceNormalization over 'axes' (default N, H, W). */
static ofx_status mvn_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  norm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  int64_t axes[OFX_MAX_RANK] = {0, 2, 3};
  size_t n;
  OFX_TRY(ofx_node_attr_ints(op->node, "axes", axes, OFX_MAX_RANK, &n));
  if (n == 0) n = 3;
  memset(s->axes, 0, sizeof s->axes);
  for (size_t i = 0; i < n; i++) {
    int a;
    OFX_TRY(ofx_op_axis_strict(op, "axis", axes[i], in[0].rank, &a));
    s->axes[a] = true;
  }
  out[0] = in[0];
  out[0].data = NULL;
  op->scratch_bytes = ofx_tensor_numel(&in[0]) * 2 * sizeof(double) + 16;
  return OFX_OK;
}

static void mvn_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const norm_state *s = op->state;
  const float *x = in[0].data;
  float *y = out[0].data;
  size_t total = ofx_tensor_numel(&in[0]);
  double *sum = ctx->scratch, *sq = sum + total;
  int64_t gst[OFX_MAX_RANK], st = 1;
  for (int d = in[0].rank - 1; d >= 0; d--) {
    gst[d] = s->axes[d] ? 0 : st;
    if (!s->axes[d]) st *= in[0].dims[d];
  }
  size_t groups = (size_t)st, per = groups ? total / groups : 0;
  memset(sum, 0, 2 * total * sizeof(double));
  for (int pass = 0; pass < 2; pass++) {
    int64_t idx[OFX_MAX_RANK] = {0};
    size_t g = 0;
    for (size_t e = 0; e < total; e++) {
      if (pass == 0) {
        sum[g] += x[e];
        sq[g] += (double)x[e] * x[e];
      } else {
        double mean = sum[g] / (double)per, var = sq[g] / (double)per - mean * mean;
        y[e] = (float)((x[e] - mean) / (sqrt(var > 0 ? var : 0) + 1e-9));
      }
      for (int d = in[0].rank - 1; d >= 0; d--) {
        g += (size_t)gst[d];
        if (++idx[d] < in[0].dims[d]) break;
        g -= (size_t)(gst[d] * in[0].dims[d]);
        idx[d] = 0;
      }
    }
  }
}

static ofx_status mvn_init(ofx_op *op) {
  return ofx_op_state_new(op, sizeof(norm_state));
}

const ofx_op_def ofx_op_mean_variance_normalization = {.op_type = "MeanVarianceNormalization",
                                                       .kind = OFX_OP_MeanVarianceNormalization, .init = mvn_init,
                                                       .reshape = mvn_reshape, .run = mvn_run};
