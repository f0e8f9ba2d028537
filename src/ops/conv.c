/* Conv (2-D; any groups, strides, dilations, pads, auto_pad). Weights and bias must be
 * constants: they are packed once at init.
 *
 * The runtime hands Conv NHWC activations (OFX_OP_WANTS_NHWC) and it runs, per the shape:
 *   - 1x1, stride 1, no padding, one group: a plain GEMM over all pixels of the batch;
 *   - depthwise (up to OFX_DWCONV_MAX_TAPS taps): the channel-tiled depthwise kernels;
 *   - anything else: an indirect GEMM per image and group, through an indirection buffer of
 *     pixel pointers built once per input shape, with a zero row for padding.
 * A tensor still in NCHW (when the runtime does not convert) goes through the scalar reference
 * kernel, which is also what the fast paths are tested against. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/elementwise-driver.h"
#include "kernels/f32-conv2d/f32-conv2d.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "ops/op.h"
#include "ops/quantize.h"
#include "ops/spatial.h"

typedef enum conv_path { CONV_GEMM, CONV_DEPTHWISE, CONV_DEPTHWISE_GENERIC, CONV_IGEMM } conv_path;

typedef struct conv_state {
  size_t out_channels, in_channels_per_group, kernel_h, kernel_w, groups;
  ofx_spatial_attrs spatial;
  float *weights; /* OIHW, kept only for the paths that read it at run time (1-D, DEPTHWISE_GENERIC) */
  float *bias;    /* [out_channels] */
  float *packed;  /* per group, for the NHWC paths */
  size_t packed_group_stride;
  conv_path path;
  ofx_conv2d_params params; /* shape of the last reshape, per group */
  /* indirection buffer for the last reshape, built against `fake_input` */
  const float **indirection;
  size_t indirection_size;
  float *zero;
  size_t zero_size;
  float output_min, output_max;
  ofx_f32_vunary_fn post; /* fused activation after the clamp (SiLU, HardSwish, Sigmoid) or NULL */
  bool one_d; /* 1-D Conv: [N, C, L] viewed as [N, C, 1, L], weights [O, I, K] as [O, I, 1, K] */
} conv_state;

/* The indirection buffer is built against this address and moved to the real input with the
 * kernels' byte offset, so it survives inputs that change address between runs. */
#define FAKE_INPUT ((const float *)(uintptr_t)4096)

static void conv_destroy(ofx_op *op) {
  conv_state *s = op->state;
  if (s == NULL) return;
  free(s->weights);
  free(s->bias);
  free(s->packed);
  free(s->indirection);
  free(s->zero);
  free(s);
}

static bool is_depthwise(const conv_state *s) {
  return s->groups > 1 && s->in_channels_per_group == 1 && s->out_channels == s->groups;
}

static ofx_status conv_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(conv_state)));
  conv_state *s = op->state;
  const ofx_value *w = ofx_op_const_input(op, 1);
  if (w == NULL)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "weights (input 1) are computed at run time from a graph input; only constant weights are supported (initializers, or subgraphs of constants, which are folded when the model loads)");
  if (w->dtype != OFX_DTYPE_FLOAT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "weights have type %s, only float32 is supported",
                        onnx_dtype_name((int32_t)w->dtype));
  if (w->rank != 4 && w->rank != 3)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "only 1-D and 2-D convolutions are supported (weights have rank %d)", w->rank);
  s->one_d = w->rank == 3;
  int64_t group;
  OFX_TRY(ofx_node_attr_int(op->node, "group", 1, &group));
  s->out_channels = (size_t)w->dims[0];
  s->in_channels_per_group = (size_t)w->dims[1];
  s->kernel_h = s->one_d ? 1 : (size_t)w->dims[2];
  s->kernel_w = (size_t)w->dims[s->one_d ? 2 : 3];
  if (group <= 0 || s->out_channels % (size_t)group != 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'group' (%lld) must be positive and divide the %zu output channels",
                        (long long)group, s->out_channels);
  s->groups = (size_t)group;
  if (s->out_channels == 0 || s->in_channels_per_group == 0 || s->kernel_h == 0 || s->kernel_w == 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "weights have a zero dim");
  if (s->one_d) {
    ofx_spatial_attrs a1;
    OFX_TRY(ofx_spatial_attrs_read(op, 1, w->dims + 2, true, &a1));
    s->spatial = a1; /* widen to 2-D with a unit H axis */
    s->spatial.dims = 2;
    s->spatial.kernel[0] = 1, s->spatial.kernel[1] = a1.kernel[0];
    s->spatial.strides[0] = 1, s->spatial.strides[1] = a1.strides[0];
    s->spatial.dilations[0] = 1, s->spatial.dilations[1] = a1.dilations[0];
    s->spatial.pads[0] = 0, s->spatial.pads[1] = a1.pads[0], s->spatial.pads[2] = 0, s->spatial.pads[3] = a1.pads[1];
  } else {
    int64_t kernel[2] = {w->dims[2], w->dims[3]};
    OFX_TRY(ofx_spatial_attrs_read(op, 2, kernel, true, &s->spatial));
  }
  s->output_min = -INFINITY;
  s->output_max = INFINITY;

  ofx_op_mark_input(op, 1, OFX_INPUT_PACKED);
  if (op->shapes_only) return OFX_OK; /* reshape needs no weights */
  s->bias = calloc(s->out_channels, sizeof(float));
  if (!s->bias) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
  if (ofx_op_has_input(op, 2)) {
    const ofx_value *b = ofx_op_const_input(op, 2);
    if (b == NULL)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "bias (input 2) is computed at run time from a graph input; only a constant bias is supported (an initializer, or a subgraph of constants)");
    if (b->dtype != OFX_DTYPE_FLOAT32 || b->nbytes != s->out_channels * sizeof(float))
      return ofx_op_error(op, OFX_BAD_MODEL, "bias must be float32 with %zu elements", s->out_channels);
    memcpy(s->bias, b->data, b->nbytes);
    ofx_op_mark_input(op, 2, OFX_INPUT_PACKED);
  }

  /* The NHWC paths pack straight from the (possibly unaligned) model bytes; only the 1-D and
   * DEPTHWISE_GENERIC paths read OIHW weights at run time and keep an aligned copy, so the
   * model holds the weights once, packed or copied, never twice. */
  const ofx_kernel_config *k = ofx_kernels();
  size_t taps = s->kernel_h * s->kernel_w, cout_g = s->out_channels / s->groups;
  if (s->one_d) {
    /* rank 3 stays NCHW: the reference path reads s->weights */
  } else if (is_depthwise(s) && taps <= OFX_DWCONV_MAX_TAPS) { /* 3x3, 5x5, 7x7 (ConvNeXt), 1-D, ... */
    s->path = CONV_DEPTHWISE;
    s->packed_group_stride = 0;
    s->packed = malloc(ofx_x32_packw_dwconv_size(s->out_channels, taps, k->dwconv_cr) * sizeof(float));
    if (s->packed == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
    ofx_x32_packw_dwconv_chw(s->out_channels, taps, k->dwconv_cr, w->data, s->bias, s->packed);
    op->packed_bytes = ofx_x32_packw_dwconv_size(s->out_channels, taps, k->dwconv_cr) * sizeof(float);
    return OFX_OK;
  } else if (is_depthwise(s)) {
    s->path = CONV_DEPTHWISE_GENERIC; /* more than OFX_DWCONV_MAX_TAPS taps: plain loops */
  } else {
    s->path = CONV_IGEMM; /* reshape may pick CONV_GEMM for 1x1 shapes; the packing is the same */
    s->packed_group_stride = ofx_x32_packw_gemm_size(cout_g, taps * s->in_channels_per_group, k->gemm_nr);
    s->packed = malloc(s->packed_group_stride * s->groups * sizeof(float));
    if (s->packed == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
    size_t group_bytes = cout_g * s->in_channels_per_group * taps * sizeof(float);
    for (size_t g = 0; g < s->groups; g++)
      ofx_x32_packw_conv_oihw(cout_g, s->in_channels_per_group, s->kernel_h, s->kernel_w, k->gemm_nr,
                              (const char *)w->data + g * group_bytes, s->bias + g * cout_g,
                              s->packed + g * s->packed_group_stride);
    op->packed_bytes = s->packed_group_stride * s->groups * sizeof(float);
    return OFX_OK;
  }
  s->weights = malloc(w->nbytes);
  if (s->weights == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory copying weights");
  memcpy(s->weights, w->data, w->nbytes); /* aligned: the model bytes may not be */
  op->packed_bytes = w->nbytes + s->out_channels * sizeof(float);
  return OFX_OK;
}

/* Weights for the NCHW reference path: the kept copy, else (a Conv evaluated at plan time) an
 * aligned copy from the model into the scratch that reshape asked for. */
static const float *conv_nchw_weights(const ofx_op *op, const conv_state *s, void *scratch) {
  if (s->weights) return s->weights;
  const ofx_value *w = ofx_op_const_input(op, 1);
  memcpy(scratch, w->data, w->nbytes);
  return scratch;
}

static ofx_status conv_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  conv_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, s->one_d ? 3 : 4));
  int64_t x1d[4];
  const int64_t *x = in[0].dims; /* logical NCHW whatever the layout */
  if (s->one_d) { /* rank 3 is never converted to NHWC: it stays on the reference path */
    x1d[0] = x[0], x1d[1] = x[1], x1d[2] = 1, x1d[3] = x[2];
    x = x1d;
  }
  if ((size_t)x[1] != s->in_channels_per_group * s->groups) {
    char shape[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input has %lld channels (shape %s), the weights expect %zu",
                        (long long)x[1], ofx_shape_str(x, 4, shape, sizeof shape), s->in_channels_per_group * s->groups);
  }
  int64_t out_spatial[2];
  size_t pads_begin[2];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, x + 2, out_spatial, pads_begin, NULL));
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 4;
  out[0].layout = in[0].layout;
  out[0].dims[0] = x[0];
  out[0].dims[1] = (int64_t)s->out_channels;
  out[0].dims[2] = out_spatial[0];
  out[0].dims[3] = out_spatial[1];
  if (s->one_d) out[0].rank = 3, out[0].dims[2] = out_spatial[1];
  s->params = (ofx_conv2d_params){
      .in_channels = s->in_channels_per_group,
      .in_height = (size_t)x[2],
      .in_width = (size_t)x[3],
      .out_channels = s->out_channels / s->groups,
      .out_height = (size_t)out_spatial[0],
      .out_width = (size_t)out_spatial[1],
      .kernel_height = s->kernel_h,
      .kernel_width = s->kernel_w,
      .stride_height = (size_t)s->spatial.strides[0],
      .stride_width = (size_t)s->spatial.strides[1],
      .dilation_height = (size_t)s->spatial.dilations[0],
      .dilation_width = (size_t)s->spatial.dilations[1],
      .pad_top = pads_begin[0],
      .pad_left = pads_begin[1],
      .output_min = s->output_min,
      .output_max = s->output_max,
  };
  if (in[0].layout != OFX_LAYOUT_NHWC) {
    if (s->weights == NULL) op->scratch_bytes = s->out_channels * s->in_channels_per_group * s->kernel_h * s->kernel_w * sizeof(float);
    return OFX_OK;
  }

  const ofx_conv2d_params *p = &s->params;
  bool pointwise = p->kernel_height == 1 && p->kernel_width == 1 && p->stride_height == 1 && p->stride_width == 1 &&
                   p->pad_top == 0 && p->pad_left == 0 && p->out_height == p->in_height && p->out_width == p->in_width;
  if (s->path == CONV_IGEMM || s->path == CONV_GEMM) s->path = pointwise && s->groups == 1 ? CONV_GEMM : CONV_IGEMM;
  if (s->path == CONV_GEMM || s->path == CONV_DEPTHWISE_GENERIC) return OFX_OK;

  /* indirection over one image, rebuilt only when the shape changes */
  const ofx_kernel_config *k = ofx_kernels();
  size_t mr = s->path == CONV_DEPTHWISE ? 1 : k->igemm_mr;
  size_t taps = p->kernel_height * p->kernel_width;
  size_t pointers = ofx_indirection_size_conv2d(p->out_height, p->out_width, p->kernel_height, p->kernel_width, mr);
  size_t zero_floats = s->in_channels_per_group * s->groups + 16;
  if (pointers > SIZE_MAX / sizeof(float *) / 2)
    return ofx_op_error(op, OFX_OUT_OF_MEMORY, "the indirection buffer for %zu output pixels x %zu taps is too large",
                        p->out_height * p->out_width, taps);
  if (pointers > s->indirection_size) {
    free(s->indirection);
    s->indirection_size = 0;
    s->indirection = malloc(pointers * sizeof *s->indirection);
    if (s->indirection == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory for the indirection buffer");
    s->indirection_size = pointers;
  }
  if (zero_floats > s->zero_size) {
    free(s->zero);
    s->zero_size = 0;
    s->zero = calloc(zero_floats, sizeof(float));
    if (s->zero == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory for the zero buffer");
    s->zero_size = zero_floats;
  }
  ofx_indirection_init_conv2d_nhwc(s->indirection, FAKE_INPUT, s->in_channels_per_group * s->groups, s->zero,
                                   p->in_height, p->in_width, p->out_height, p->out_width, p->kernel_height,
                                   p->kernel_width, p->stride_height, p->stride_width, p->dilation_height,
                                   p->dilation_width, p->pad_top, p->pad_left, mr);
  return OFX_OK;
}

/* Depthwise with any kernel size, NHWC: per output pixel, taps accumulate over channels (the
 * inner loop runs along contiguous channels, which the compiler vectorizes). */
static void depthwise_generic_nhwc(const conv_state *s, const float *x, float *y) {
  const ofx_conv2d_params *p = &s->params;
  const size_t c = s->out_channels;
  for (size_t oy = 0; oy < p->out_height; oy++) {
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *o = y + (oy * p->out_width + ox) * c;
      memcpy(o, s->bias, c * sizeof(float));
      for (size_t ky = 0; ky < p->kernel_height; ky++) {
        long long iy = (long long)(oy * p->stride_height + ky * p->dilation_height) - (long long)p->pad_top;
        if (iy < 0 || iy >= (long long)p->in_height) continue;
        for (size_t kx = 0; kx < p->kernel_width; kx++) {
          long long ix = (long long)(ox * p->stride_width + kx * p->dilation_width) - (long long)p->pad_left;
          if (ix < 0 || ix >= (long long)p->in_width) continue;
          const float *in = x + ((size_t)iy * p->in_width + (size_t)ix) * c;
          const float *w = s->weights + ky * p->kernel_width + kx; /* [c][1][kh][kw] */
          const size_t w_stride = p->kernel_height * p->kernel_width;
          for (size_t ch = 0; ch < c; ch++) o[ch] += in[ch] * w[ch * w_stride];
        }
      }
      for (size_t ch = 0; ch < c; ch++) o[ch] = ofx_clampf(o[ch], s->output_min, s->output_max);
    }
  }
}

static void conv_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const conv_state *s = op->state;
  const ofx_conv2d_params *p = &s->params;
  const size_t batch = (size_t)in[0].dims[0], groups = s->groups;
  const size_t cin = p->in_channels * groups, cout = p->out_channels * groups;
  const size_t in_image = cin * p->in_height * p->in_width, out_image = cout * p->out_height * p->out_width;
  const float *x = in[0].data;
  float *y = out[0].data;
  if (in[0].layout != OFX_LAYOUT_NHWC) {
    const size_t w_group = p->out_channels * p->in_channels * p->kernel_height * p->kernel_width;
    const float *weights = conv_nchw_weights(op, s, ctx->scratch);
    for (size_t n = 0; n < batch; n++)
      for (size_t g = 0; g < groups; g++)
        ofx_f32_conv2d_nchw_minmax__scalar(p, x + n * in_image + g * (in_image / groups), weights + g * w_group,
                                           s->bias + g * p->out_channels, y + n * out_image + g * (out_image / groups));
    if (s->post) ofx_f32_vunary(s->post, batch * out_image, y, y, ctx->pool);
    return;
  }
  const size_t out_pixels = p->out_height * p->out_width, taps = p->kernel_height * p->kernel_width;
  switch (s->path) {
    case CONV_GEMM:
      ofx_f32_gemm_post(batch * out_pixels, cout, cin, x, cin, s->packed, y, cout, s->output_min, s->output_max, s->post,
                        ctx->pool);
      break;
    case CONV_DEPTHWISE:
      for (size_t n = 0; n < batch; n++) {
        size_t offset = (size_t)((uintptr_t)(x + n * in_image) - (uintptr_t)FAKE_INPUT);
        ofx_f32_dwconv(taps, cout, out_pixels, s->indirection, s->packed, y + n * out_image, cout, offset, s->zero,
                       s->output_min, s->output_max, s->post, ctx->pool);
      }
      break;
    case CONV_DEPTHWISE_GENERIC:
      for (size_t n = 0; n < batch; n++) depthwise_generic_nhwc(s, x + n * in_image, y + n * out_image);
      if (s->post) ofx_f32_vunary(s->post, batch * out_image, y, y, ctx->pool);
      break;
    case CONV_IGEMM:
      for (size_t n = 0; n < batch; n++) {
        for (size_t g = 0; g < groups; g++) {
          const float *group_input = x + n * in_image + g * p->in_channels;
          size_t offset = (size_t)((uintptr_t)group_input - (uintptr_t)FAKE_INPUT);
          ofx_f32_igemm(ofx_kernels()->igemm_mr, out_pixels, p->out_channels, p->in_channels, taps, s->indirection,
                        s->packed + g * s->packed_group_stride, y + n * out_image + g * p->out_channels, cout, offset,
                        s->zero, s->output_min, s->output_max, s->post, ctx->pool);
        }
      }
      break;
  }
}

/* The activation after a Conv becomes its kernels' output clamp, or a pass over each output
 * tile while it is in cache (after the clamp, so nothing folds after it). */
static bool conv_fuse_activation(ofx_op *op, const ofx_activation *act) {
  conv_state *s = op->state;
  const ofx_kernel_config *k = ofx_kernels();
  if (s->post != NULL) return false;
  switch (act->kind) {
    case OFX_ACTIVATION_CLAMP:
      if (act->min > s->output_min) s->output_min = act->min;
      if (act->max < s->output_max) s->output_max = act->max;
      return true;
    case OFX_ACTIVATION_SIGMOID: s->post = k->f32_vsigmoid; return true;
    case OFX_ACTIVATION_HARDSIGMOID: return false; /* SE gates of a few channels: not worth a kernel */
    case OFX_ACTIVATION_HARDSWISH: s->post = k->f32_vhardswish; return true;
    case OFX_ACTIVATION_SWISH: s->post = k->f32_vswish; return true;
  }
  return false;
}

const ofx_op_def ofx_op_conv = {
    .op_type = "Conv",
    .kind = OFX_OP_Conv,
    .init = conv_init,
    .fuse_quantized = ofx_q8_fuse_quantized,
    .reshape = conv_reshape,
    .run = conv_run,
    .destroy = conv_destroy,
    .input_layout = OFX_OP_WANTS_NHWC,
    .fuse_activation = conv_fuse_activation,
};
