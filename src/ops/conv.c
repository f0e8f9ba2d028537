/* Conv (2-D, NCHW, any groups/strides/dilations/pads/auto_pad). Weights and bias must be
 * constants: they are packed once at init. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/f32-conv2d/f32-conv2d.h"
#include "ops/op.h"
#include "ops/spatial.h"

typedef struct conv_state {
  size_t out_channels, in_channels_per_group, kernel_h, kernel_w;
  int64_t group;
  ofx_spatial_attrs spatial;
  float *weights; /* [out_channels][in_channels_per_group][kh][kw] */
  float *bias;    /* [out_channels], zeros when the model has none */
  ofx_conv2d_params params;
} conv_state;

static void conv_destroy(ofx_op *op) {
  conv_state *s = op->state;
  if (s == NULL) return;
  free(s->weights);
  free(s->bias);
  free(s);
}

static ofx_status conv_init(ofx_op *op) {
  conv_state *s = calloc(1, sizeof *s);
  if (s == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
  op->state = s;
  const ofx_value *w = ofx_op_const_input(op, 1);
  if (w == NULL)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "weights (input 1) must be a constant initializer");
  if (w->dtype != OFX_DTYPE_FLOAT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "weights have type %s, only float32 is supported",
                        onnx_dtype_name((int32_t)w->dtype));
  if (w->rank != 4)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "only 2-D convolutions are supported (weights have rank %d)", w->rank);
  OFX_TRY(ofx_attr_int(op, "group", 1, &s->group));
  s->out_channels = (size_t)w->dims[0];
  s->in_channels_per_group = (size_t)w->dims[1];
  s->kernel_h = (size_t)w->dims[2];
  s->kernel_w = (size_t)w->dims[3];
  if (s->group <= 0 || s->out_channels % (size_t)s->group != 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'group' (%lld) must be positive and divide the %zu output channels",
                        (long long)s->group, s->out_channels);
  if (s->out_channels == 0 || s->in_channels_per_group == 0 || s->kernel_h == 0 || s->kernel_w == 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "weights have a zero dim");
  int64_t kernel[2] = {w->dims[2], w->dims[3]};
  OFX_TRY(ofx_spatial_attrs_read(op, 2, kernel, true, &s->spatial));

  size_t count = (size_t)w->nbytes / sizeof(float);
  s->weights = malloc(count * sizeof(float));
  s->bias = calloc(s->out_channels, sizeof(float));
  if (!s->weights || !s->bias) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
  memcpy(s->weights, w->data, count * sizeof(float)); /* the model bytes may be unaligned */
  op->packed_inputs |= 1u << 1;
  if (ofx_op_has_input(op, 2)) {
    const ofx_value *b = ofx_op_const_input(op, 2);
    if (b == NULL)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "bias (input 2) must be a constant initializer");
    if (b->dtype != OFX_DTYPE_FLOAT32 || b->nbytes != s->out_channels * sizeof(float))
      return ofx_op_error(op, OFX_BAD_MODEL, "bias must be float32 with %zu elements", s->out_channels);
    memcpy(s->bias, b->data, b->nbytes);
    op->packed_inputs |= 1u << 2;
  }
  return OFX_OK;
}

static ofx_status conv_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  conv_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, 4));
  const int64_t *x = in[0].dims;
  if ((size_t)x[1] != s->in_channels_per_group * (size_t)s->group) {
    char shape[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input has %lld channels (shape %s), the weights expect %zu",
                        (long long)x[1], ofx_shape_str(x, 4, shape, sizeof shape),
                        s->in_channels_per_group * (size_t)s->group);
  }
  int64_t out_spatial[2];
  size_t pads_begin[2];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, x + 2, out_spatial, pads_begin, NULL));
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 4;
  out[0].dims[0] = x[0];
  out[0].dims[1] = (int64_t)s->out_channels;
  out[0].dims[2] = out_spatial[0];
  out[0].dims[3] = out_spatial[1];
  size_t groups = (size_t)s->group;
  s->params = (ofx_conv2d_params){
      .in_channels = s->in_channels_per_group,
      .in_height = (size_t)x[2],
      .in_width = (size_t)x[3],
      .out_channels = s->out_channels / groups,
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
      .output_min = -INFINITY,
      .output_max = INFINITY,
  };
  return OFX_OK;
}

static void conv_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const conv_state *s = op->state;
  const ofx_conv2d_params *p = &s->params;
  const size_t groups = (size_t)s->group;
  const size_t in_group = p->in_channels * p->in_height * p->in_width;
  const size_t out_group = p->out_channels * p->out_height * p->out_width;
  const size_t w_group = p->out_channels * p->in_channels * p->kernel_height * p->kernel_width;
  const float *x = in[0].data;
  float *y = out[0].data;
  for (int64_t n = 0; n < in[0].dims[0]; n++) {
    for (size_t g = 0; g < groups; g++) {
      ofx_f32_conv2d_nchw_minmax__scalar(p, x + (n * groups + g) * in_group, s->weights + g * w_group,
                                         s->bias + g * p->out_channels, y + (n * groups + g) * out_group);
    }
  }
}

const ofx_op_def ofx_op_conv = {"Conv", conv_init, conv_reshape, conv_run, conv_destroy};
