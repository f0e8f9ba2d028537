/* ConvTranspose over 1, 2 or 3 spatial dims, float32, NCHW: groups, strides, dilations, pads,
 * output_padding, output_shape, auto_pad. Weights [C_in, C_out/group, k...] and bias are read at
 * run time, so they may be constants or computed (the conformance tests feed them as inputs).
 *
 * Plain scatter loops: every input pixel adds its weighted kernel into the output. Exporters
 * use ConvTranspose in decoder heads (FCN/segmentation upsampling), not in backbones, so this
 * is not on a hot path. Shapes are padded to three spatial dims by ones. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/spatial.h"

typedef struct conv_transpose_state {
  int64_t group;
  int64_t output_padding[OFX_MAX_SPATIAL], output_shape[OFX_MAX_SPATIAL];
  size_t n_output_padding, n_output_shape;
  /* the last reshape, padded to three spatial dims */
  size_t batch, cin, cout, in[3], out[3], kernel[3], stride[3], dilation[3], pad_begin[3];
  bool has_bias;
} conv_transpose_state;

static ofx_status conv_transpose_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(conv_transpose_state)));
  conv_transpose_state *s = op->state;
  OFX_TRY(ofx_node_attr_int(op->node, "group", 1, &s->group));
  if (s->group <= 0 || s->group > OFX_SPATIAL_ATTR_MAX)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'group' (%lld) must be positive", (long long)s->group);
  OFX_TRY(ofx_node_attr_ints(op->node, "output_padding", s->output_padding, OFX_MAX_SPATIAL, &s->n_output_padding));
  OFX_TRY(ofx_node_attr_ints(op->node, "output_shape", s->output_shape, OFX_MAX_SPATIAL, &s->n_output_shape));
  for (size_t i = 0; i < s->n_output_padding; i++)
    if (s->output_padding[i] < 0 || s->output_padding[i] > OFX_SPATIAL_ATTR_MAX)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'output_padding' value %lld is out of range",
                          (long long)s->output_padding[i]);
  for (size_t i = 0; i < s->n_output_shape; i++)
    if (s->output_shape[i] < 0 || s->output_shape[i] > OFX_SPATIAL_DIM_MAX)
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'output_shape' value %lld is out of range",
                          (long long)s->output_shape[i]);
  return OFX_OK;
}

static ofx_status conv_transpose_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  conv_transpose_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  const int rank = in[0].rank, dims = rank - 2;
  if (dims < 1 || dims > 3)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input has rank %d: only 1-D to 3-D ConvTranspose is supported", rank);
  OFX_TRY(ofx_op_check_input(op, in, 1, OFX_DTYPE_FLOAT32, rank));
  const int64_t *x = in[0].dims, *w = in[1].dims;
  if (w[0] != x[1]) {
    char a[96], b[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input %s has %lld channels, the weights %s expect %lld",
                        ofx_shape_str(x, rank, a, sizeof a), (long long)x[1], ofx_shape_str(w, rank, b, sizeof b),
                        (long long)w[0]);
  }
  if (x[1] % s->group != 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'group' (%lld) does not divide the %lld input channels",
                        (long long)s->group, (long long)x[1]);
  for (int i = 1; i < rank; i++)
    if (w[i] <= 0) return ofx_op_error(op, OFX_BAD_MODEL, "weights have a zero dim");
  if (w[1] > OFX_SPATIAL_ATTR_MAX / s->group) return ofx_op_error(op, OFX_BAD_MODEL, "too many output channels");
  ofx_spatial_attrs a;
  OFX_TRY(ofx_spatial_attrs_read(op, dims, w + 2, true, &a));
  if (s->n_output_padding && s->n_output_padding != (size_t)dims)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'output_padding' has %zu values, expected %d", s->n_output_padding, dims);
  if (s->n_output_shape && s->n_output_shape != (size_t)dims)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'output_shape' has %zu values, expected %d", s->n_output_shape, dims);
  if (ofx_op_has_input(op, 2)) {
    OFX_TRY(ofx_op_check_input(op, in, 2, OFX_DTYPE_FLOAT32, 1));
    if (in[2].dims[0] != w[1] * s->group)
      return ofx_op_error(op, OFX_BAD_INPUT, "bias has %lld values, expected %lld", (long long)in[2].dims[0],
                          (long long)(w[1] * s->group));
  }
  s->has_bias = ofx_op_has_input(op, 2);
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = rank;
  out[0].layout = OFX_LAYOUT_NCHW;
  out[0].dims[0] = x[0];
  out[0].dims[1] = w[1] * s->group;
  for (int i = 0; i < 3; i++) {
    s->in[i] = s->out[i] = s->kernel[i] = s->stride[i] = s->dilation[i] = 1;
    s->pad_begin[i] = 0;
  }
  for (int i = 0; i < dims; i++) {
    int64_t in_len = x[2 + i];
    if (in_len < 0 || in_len > OFX_SPATIAL_DIM_MAX)
      return ofx_op_error(op, OFX_BAD_INPUT, "spatial dim %d of the input (%lld) is out of range", i, (long long)in_len);
    int64_t out_pad = s->n_output_padding ? s->output_padding[i] : 0;
    if (out_pad >= a.strides[i] && out_pad >= a.dilations[i])
      return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'output_padding' (%lld) must be smaller than the stride or the dilation",
                          (long long)out_pad);
    int64_t effective_kernel = (a.kernel[i] - 1) * a.dilations[i] + 1;
    int64_t full = a.strides[i] * (in_len - 1) + out_pad + effective_kernel; /* before removing pads */
    if (in_len == 0) full = 0;
    int64_t begin, o;
    if (s->n_output_shape || (a.auto_pad == OFX_PAD_SAME_UPPER || a.auto_pad == OFX_PAD_SAME_LOWER)) {
      o = s->n_output_shape ? s->output_shape[i] : in_len * a.strides[i];
      int64_t total = full - o;
      if (total < 0) total = 0; /* extra output beyond the scattered span stays bias-only */
      begin = a.auto_pad == OFX_PAD_SAME_LOWER ? total - total / 2 : total / 2;
    } else if (a.auto_pad == OFX_PAD_VALID) {
      begin = 0;
      o = full;
    } else {
      begin = a.pads[i];
      o = full - a.pads[i] - a.pads[i + dims];
    }
    if (o < 0)
      return ofx_op_error(op, OFX_BAD_INPUT, "spatial dim %d of the output would be %lld: the pads exceed the output", i,
                          (long long)o);
    out[0].dims[2 + i] = o;
    s->in[i] = (size_t)in_len;
    s->out[i] = (size_t)o;
    s->kernel[i] = (size_t)a.kernel[i];
    s->stride[i] = (size_t)a.strides[i];
    s->dilation[i] = (size_t)a.dilations[i];
    s->pad_begin[i] = (size_t)begin;
  }
  s->batch = (size_t)x[0];
  s->cin = (size_t)x[1];
  s->cout = (size_t)(w[1] * s->group);
  return OFX_OK;
}

static void conv_transpose_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  (void)ctx;
  const conv_transpose_state *s = op->state;
  const size_t groups = (size_t)s->group, cin_g = s->cin / groups, cout_g = s->cout / groups;
  const size_t in_plane = s->in[0] * s->in[1] * s->in[2], out_plane = s->out[0] * s->out[1] * s->out[2];
  const size_t taps = s->kernel[0] * s->kernel[1] * s->kernel[2];
  const float *x = in[0].data, *w = in[1].data, *bias = s->has_bias ? in[2].data : NULL;
  float *y = out[0].data;
  for (size_t n = 0; n < s->batch; n++) {
    float *yn = y + n * s->cout * out_plane;
    for (size_t c = 0; c < s->cout; c++)
      for (size_t i = 0; i < out_plane; i++) yn[c * out_plane + i] = bias ? bias[c] : 0.0f;
    for (size_t g = 0; g < groups; g++)
      for (size_t ic = 0; ic < cin_g; ic++) {
        const size_t ci = g * cin_g + ic;
        const float *xc = x + (n * s->cin + ci) * in_plane;
        for (size_t i0 = 0; i0 < s->in[0]; i0++)
          for (size_t i1 = 0; i1 < s->in[1]; i1++)
            for (size_t i2 = 0; i2 < s->in[2]; i2++) {
              const float v = xc[(i0 * s->in[1] + i1) * s->in[2] + i2];
              for (size_t k0 = 0; k0 < s->kernel[0]; k0++) {
                long long o0 = (long long)(i0 * s->stride[0] + k0 * s->dilation[0]) - (long long)s->pad_begin[0];
                if (o0 < 0 || o0 >= (long long)s->out[0]) continue;
                for (size_t k1 = 0; k1 < s->kernel[1]; k1++) {
                  long long o1 = (long long)(i1 * s->stride[1] + k1 * s->dilation[1]) - (long long)s->pad_begin[1];
                  if (o1 < 0 || o1 >= (long long)s->out[1]) continue;
                  for (size_t k2 = 0; k2 < s->kernel[2]; k2++) {
                    long long o2 = (long long)(i2 * s->stride[2] + k2 * s->dilation[2]) - (long long)s->pad_begin[2];
                    if (o2 < 0 || o2 >= (long long)s->out[2]) continue;
                    const size_t tap = (k0 * s->kernel[1] + k1) * s->kernel[2] + k2;
                    const size_t at = ((size_t)o0 * s->out[1] + (size_t)o1) * s->out[2] + (size_t)o2;
                    const float *wk = w + (ci * cout_g) * taps + tap; /* [cin][cout_g][taps] */
                    float *yo = yn + g * cout_g * out_plane + at;
                    for (size_t oc = 0; oc < cout_g; oc++) yo[oc * out_plane] += v * wk[oc * taps];
                  }
                }
              }
            }
      }
  }
}

const ofx_op_def ofx_op_conv_transpose = {.op_type = "ConvTranspose", .kind = OFX_OP_ConvTranspose,
                                          .init = conv_transpose_init, .reshape = conv_transpose_reshape,
                                          .run = conv_transpose_run};
