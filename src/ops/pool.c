/* MaxPool, AveragePool (2-D), GlobalAveragePool and GlobalMaxPool (any spatial rank).
 * MaxPool, AveragePool and GlobalAveragePool take rank-4 activations NHWC (OFX_OP_WANTS_NHWC)
 * and run the NHWC kernels (SIMD over channels); inputs still NCHW (other ranks, or no
 * conversion) take the NCHW reference kernels. MaxPool takes int8/uint8 too, through the float
 * kernels (ofx_pool_x8_run). */
#include <math.h>
#include <stdlib.h>

#include "base/status.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/kernel-config.h"
#include "ops/op.h"
#include "ops/pool-nd.h"
#include "ops/spatial.h"
#include "threadpool/threadpool.h"

typedef struct pool_state {
  ofx_spatial_attrs spatial;
  ofx_pool2d_params params;
  size_t planes;
} pool_state;

static ofx_status pool_init(ofx_op *op) {
  OFX_POOL_ND_DISPATCH(op); /* 1-D/3-D pooling and Indices: pool-nd.c */
  OFX_TRY(ofx_op_state_new(op, sizeof(pool_state)));
  pool_state *s = op->state;
  if (op->node->n_outputs > 1 && op->node->outputs[1] >= 0)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "the Indices output is not supported");
  OFX_TRY(ofx_spatial_attrs_read(op, 2, NULL, false, &s->spatial));
  int64_t count_include_pad;
  OFX_TRY(ofx_node_attr_int(op->node, "count_include_pad", 0, &count_include_pad));
  s->params.count_include_pad = count_include_pad != 0;
  return OFX_OK;
}

static ofx_status pool_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  pool_state *s = op->state;
  const bool x8 = op->def->kind == OFX_OP_MaxPool && ofx_pool_is_x8(in[0].dtype);
  OFX_TRY(ofx_op_check_input(op, in, 0, x8 ? in[0].dtype : OFX_DTYPE_FLOAT32, 4));
  int64_t out_spatial[2];
  size_t begin[2], end[2];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, in[0].dims + 2, out_spatial, begin, end));
  out[0] = in[0];
  out[0].data = NULL;
  out[0].dims[2] = out_spatial[0];
  out[0].dims[3] = out_spatial[1];
  ofx_pool2d_params *p = &s->params;
  p->in_height = (size_t)in[0].dims[2];
  p->in_width = (size_t)in[0].dims[3];
  p->out_height = (size_t)out_spatial[0];
  p->out_width = (size_t)out_spatial[1];
  p->kernel_height = (size_t)s->spatial.kernel[0];
  p->kernel_width = (size_t)s->spatial.kernel[1];
  p->stride_height = (size_t)s->spatial.strides[0];
  p->stride_width = (size_t)s->spatial.strides[1];
  p->dilation_height = (size_t)s->spatial.dilations[0];
  p->dilation_width = (size_t)s->spatial.dilations[1];
  p->pad_top = begin[0];
  p->pad_left = begin[1];
  p->pad_bottom = end[0];
  p->pad_right = end[1];
  s->planes = (size_t)(in[0].dims[0] * in[0].dims[1]);
  if (x8) op->scratch_bytes = ofx_pool_x8_scratch(in, out);
  return OFX_OK;
}

static void max_pool_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const pool_state *s = op->state;
  ofx_f32_maxpool2d_nchw__scalar(&s->params, s->planes, in[0].data, out[0].data);
}

static void average_pool_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const pool_state *s = op->state;
  ofx_f32_avgpool2d_nchw__scalar(&s->params, s->planes, in[0].data, out[0].data);
}

/* 2-D pooling on NHWC activations: one image per kernel call. */
static void pool2d_nhwc_run(const pool_state *s, ofx_f32_pool2d_nhwc_fn fn, const ofx_tensor *in, ofx_tensor *out) {
  const ofx_pool2d_params *p = &s->params;
  const size_t batch = (size_t)in[0].dims[0], channels = (size_t)in[0].dims[1];
  const float *x = in[0].data;
  float *y = out[0].data;
  for (size_t n = 0; n < batch; n++)
    fn(p, channels, x + n * p->in_height * p->in_width * channels, y + n * p->out_height * p->out_width * channels);
}

static void max_pool_any_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  if (ofx_pool_is_x8(in[0].dtype)) ofx_pool_x8_run(op, in, out, ctx, max_pool_any_run);
  else if (in[0].layout == OFX_LAYOUT_NHWC) pool2d_nhwc_run(op->state, ofx_kernels()->f32_maxpool2d_nhwc, in, out);
  else max_pool_run(op, in, out, ctx);
}

static void average_pool_any_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  if (in[0].layout == OFX_LAYOUT_NHWC) pool2d_nhwc_run(op->state, ofx_kernels()->f32_avgpool2d_nhwc, in, out);
  else average_pool_run(op, in, out, ctx);
}

const ofx_op_def ofx_op_max_pool = {.op_type = "MaxPool", .kind = OFX_OP_MaxPool, .init = pool_init,
                                    .reshape = pool_reshape, .run = max_pool_any_run,
                                    .input_layout = OFX_OP_WANTS_NHWC, .torch_name = "max_pool2d"};
const ofx_op_def ofx_op_average_pool = {.op_type = "AveragePool", .kind = OFX_OP_AveragePool, .init = pool_init,
                                        .reshape = pool_reshape, .run = average_pool_any_run,
                                        .input_layout = OFX_OP_WANTS_NHWC, .torch_name = "avg_pool2d"};

static ofx_status global_pool_init(ofx_op *op) { return OFX_OK; }

static ofx_status global_pool_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  if (in[0].rank < 3)
    return ofx_op_error(op, OFX_BAD_INPUT, "input must have rank 3 or more, it has rank %d", in[0].rank);
  out[0] = in[0];
  out[0].data = NULL;
  for (int i = 2; i < in[0].rank; i++) out[0].dims[i] = 1;
  return OFX_OK;
}

static void global_average_pool_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out,
                                    const ofx_run_context *ctx) {
  size_t planes = (size_t)(in[0].dims[0] * in[0].dims[1]);
  size_t plane_size = ofx_tensor_numel(&in[0]) / (planes ? planes : 1);
  ofx_f32_global_avgpool_nchw__scalar(planes, plane_size, in[0].data, out[0].data);
}

/* [N, C, 1, 1] is the same memory in both layouts: the output is labelled NCHW, so nothing
 * converts it back. */
/* NHWC inputs of at least this many floats are split over the pool in pixel ranges (each
 * averaged into scratch, then combined): one image is typically a few MB in the early SE
 * blocks. At most this many ranges. */
#define GLOBAL_AVGPOOL_MIN_PARALLEL 65536
#define GLOBAL_AVGPOOL_MAX_RANGES 8

static ofx_status global_average_pool_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  OFX_TRY(global_pool_reshape(op, in, out));
  out[0].layout = OFX_LAYOUT_NCHW;
  if (in[0].layout == OFX_LAYOUT_NHWC) op->scratch_bytes = GLOBAL_AVGPOOL_MAX_RANGES * (size_t)in[0].dims[1] * sizeof(float);
  return OFX_OK;
}

typedef struct global_avgpool_job {
  const float *x;
  float *partial; /* [range][channels] averages */
  size_t channels, range_pixels;
} global_avgpool_job;

static void global_avgpool_range(void *ctx, size_t i, size_t j, size_t ni, size_t nj) {
  const global_avgpool_job *g = ctx;
  ofx_kernels()->f32_global_avgpool_nhwc(ni, g->channels, g->x + i * g->channels,
                                         g->partial + i / g->range_pixels * g->channels);
}

/* One NHWC image: whole on the caller, or in pixel ranges over the pool. */
static void global_avgpool_nhwc(size_t pixels, size_t channels, const float *x, float *y, float *scratch,
                                ofx_threadpool *pool) {
  const size_t threads = ofx_threadpool_threads_count(pool);
  if (threads == 1 || pixels < 2 || pixels * channels < GLOBAL_AVGPOOL_MIN_PARALLEL) {
    ofx_kernels()->f32_global_avgpool_nhwc(pixels, channels, x, y);
    return;
  }
  /* 2 ranges per thread: balances a thread slowed by others sharing its core */
  const size_t ranges = ofx_min_sz(ofx_min_sz(2 * threads, GLOBAL_AVGPOOL_MAX_RANGES), pixels);
  const size_t range_pixels = ofx_divide_round_up(pixels, ranges);
  global_avgpool_job g = {x, scratch, channels, range_pixels};
  ofx_threadpool_parallelize_2d_tile(pool, global_avgpool_range, &g, pixels, 1, range_pixels, 1);
  const size_t used = ofx_divide_round_up(pixels, range_pixels);
  for (size_t c = 0; c < channels; c++) {
    double sum = 0.0; /* each range's average weighted by its pixel count */
    for (size_t r = 0; r < used; r++)
      sum += (double)scratch[r * channels + c] * (double)ofx_min_sz(range_pixels, pixels - r * range_pixels);
    y[c] = (float)(sum / (double)pixels);
  }
}

static void global_average_pool_any_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out,
                                        const ofx_run_context *ctx) {
  if (in[0].layout != OFX_LAYOUT_NHWC) {
    global_average_pool_run(op, in, out, ctx);
    return;
  }
  const size_t batch = (size_t)in[0].dims[0], channels = (size_t)in[0].dims[1];
  const size_t pixels = (size_t)(in[0].dims[2] * in[0].dims[3]);
  const float *x = in[0].data;
  float *y = out[0].data;
  for (size_t n = 0; n < batch; n++)
    global_avgpool_nhwc(pixels, channels, x + n * pixels * channels, y + n * channels, ctx->scratch, ctx->pool);
}

const ofx_op_def ofx_op_global_average_pool = {.op_type = "GlobalAveragePool", .kind = OFX_OP_GlobalAveragePool,
                                               .init = global_pool_init, .reshape = global_average_pool_reshape,
                                               .run = global_average_pool_any_run, .input_layout = OFX_OP_WANTS_NHWC,
                                               .torch_name = "adaptive_avg_pool2d"};

/* GlobalMaxPool: a plain loop (no kernel yet), any spatial rank. */
static void global_max_pool_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  size_t planes = (size_t)(in[0].dims[0] * in[0].dims[1]);
  size_t plane_size = ofx_tensor_numel(&in[0]) / (planes ? planes : 1);
  const float *x = in[0].data;
  float *y = out[0].data;
  for (size_t p = 0; p < planes; p++) {
    float m = -INFINITY;
    for (size_t i = 0; i < plane_size; i++) m = x[p * plane_size + i] > m ? x[p * plane_size + i] : m;
    y[p] = m;
  }
}

const ofx_op_def ofx_op_global_max_pool = {.op_type = "GlobalMaxPool", .kind = OFX_OP_GlobalMaxPool,
                                           .init = global_pool_init, .reshape = global_pool_reshape,
                                           .run = global_max_pool_run};
