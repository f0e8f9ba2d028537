/* Conv (1-D, 2-D, 3-D; any groups, strides, dilations, pads, auto_pad). Constant weights and
 * bias are packed once at init; weights or a bias computed at run time (graph inputs, values
 * of other ops) take the unpacked path: reshape takes their shapes from in[1]/in[2] and run
 * packs them into scratch before the same kernels.
 *
 * The runtime hands Conv NHWC activations (OFX_OP_WANTS_NHWC) and it runs, per the shape:
 *   - 1x1, stride 1, no padding, one group: a plain GEMM over all pixels of the batch;
 *   - depthwise (up to OFX_DWCONV_MAX_TAPS taps): the channel-tiled depthwise kernels;
 *   - anything else: an indirect GEMM per image and group, through an indirection buffer of
 *     pixel pointers built once per input shape, with a zero row for padding.
 * A tensor still in NCHW (when the runtime does not convert) goes through the scalar reference
 * kernel, which is also what the fast paths are tested against; rank 3 (1-D) always does.
 * Rank 5 (3-D, video models) stays NCDHW: tiles of output pixels are unfolded (im2col) and run
 * through the GEMM, then transposed into the channel planes. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/elementwise-driver.h"
#include "kernels/f32-conv2d/f32-conv2d.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "ops/op.h"
#include "ops/packed-weights.h"
#include "ops/quantize.h"
#include "ops/spatial.h"

typedef enum conv_path { CONV_GEMM, CONV_DEPTHWISE, CONV_DEPTHWISE_GENERIC, CONV_IGEMM, CONV_3D } conv_path;

/* The 3-D path's shape (the last reshape). */
typedef struct conv3d_geometry {
  size_t in[3], out[3], kernel[3], stride[3], dilation[3], pad[3];
  size_t k;    /* GEMM depth: in_channels_per_group * taps */
  size_t tile; /* output pixels unfolded at a time */
} conv3d_geometry;

typedef struct conv_state {
  size_t out_channels, in_channels_per_group, kernel_h, kernel_w, groups;
  ofx_spatial_attrs spatial;
  float *weights; /* OIHW, kept only for the paths that read it at run time (1-D, DEPTHWISE_GENERIC) */
  float *bias;    /* [out_channels]; NULL on the unpacked path */
  ofx_packed_weights packed; /* per group, for the NHWC and 3-D paths; data NULL on the unpacked path */
  size_t packed_group_stride;
  conv_path path;
  ofx_conv2d_params params; /* shape of the last reshape, per group */
  conv3d_geometry g3;
  /* indirection buffer for the last reshape, built against `fake_input` */
  const float **indirection;
  size_t indirection_size;
  float *zero;
  size_t zero_size;
  float output_min, output_max;
  ofx_f32_vunary_fn post; /* fused activation after the clamp (SiLU, HardSwish, Sigmoid) or NULL */
  bool one_d; /* 1-D Conv: [N, C, L] viewed as [N, C, 1, L], weights [O, I, K] as [O, I, 1, K] */
  bool three_d;
  /* Weights or bias computed at run time: run reads in[1] (and in[2] when bias_at_run) and
   * packs into scratch at `packed_offset`; the 3-D path's tiles follow. */
  bool unpacked, bias_at_run;
  size_t col_offset, tile_offset; /* 3-D scratch, in floats */
} conv_state;

/* The indirection buffer is built against this address and moved to the real input with the
 * kernels' byte offset, so it survives inputs that change address between runs. */
#define FAKE_INPUT ((const float *)(uintptr_t)4096)

/* The 3-D path unfolds at most this many floats at a time (1 MB: stays in cache). */
#define CONV3D_COL_FLOATS ((size_t)1 << 18)

static void conv_destroy(ofx_op *op) {
  conv_state *s = op->state;
  if (s == NULL) return;
  free(s->weights);
  free(s->bias);
  ofx_packed_weights_free(&s->packed);
  free(s->indirection);
  free(s->zero);
  free(s);
}

static bool is_depthwise(const conv_state *s) {
  return s->groups > 1 && s->in_channels_per_group == 1 && s->out_channels == s->groups;
}

static size_t conv_taps(const conv_state *s) {
  return s->three_d ? (size_t)(s->spatial.kernel[0] * s->spatial.kernel[1] * s->spatial.kernel[2])
                    : s->kernel_h * s->kernel_w;
}

/* Channels, kernel and attributes from the weights' shape [O, I/group, k...] (init for
 * constant weights, reshape for computed ones), and the path they take. */
static ofx_status conv_geometry(ofx_op *op, conv_state *s, int rank, const int64_t *w) {
  if (rank < 3 || rank > 5)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "only 1-D, 2-D and 3-D convolutions are supported (weights have rank %d)", rank);
  for (int i = 0; i < rank; i++) /* computed weights are the input's fault, initializers the model's */
    if (w[i] <= 0) return ofx_op_error(op, s->unpacked ? OFX_BAD_INPUT : OFX_BAD_MODEL, "weights have a zero dim");
  s->one_d = rank == 3;
  s->three_d = rank == 5;
  int64_t group;
  OFX_TRY(ofx_node_attr_int(op->node, "group", 1, &group));
  if (group <= 0 || w[0] % group != 0)
    return ofx_op_error(op, OFX_BAD_MODEL, "attribute 'group' (%lld) must be positive and divide the %lld output channels",
                        (long long)group, (long long)w[0]);
  s->groups = (size_t)group;
  s->out_channels = (size_t)w[0];
  s->in_channels_per_group = (size_t)w[1];
  if (s->one_d) {
    ofx_spatial_attrs a1;
    OFX_TRY(ofx_spatial_attrs_read(op, 1, w + 2, true, &a1));
    s->spatial = a1; /* widen to 2-D with a unit H axis */
    s->spatial.dims = 2;
    s->spatial.kernel[0] = 1, s->spatial.kernel[1] = a1.kernel[0];
    s->spatial.strides[0] = 1, s->spatial.strides[1] = a1.strides[0];
    s->spatial.dilations[0] = 1, s->spatial.dilations[1] = a1.dilations[0];
    s->spatial.pads[0] = 0, s->spatial.pads[1] = a1.pads[0], s->spatial.pads[2] = 0, s->spatial.pads[3] = a1.pads[1];
  } else {
    OFX_TRY(ofx_spatial_attrs_read(op, rank - 2, w + 2, true, &s->spatial));
  }
  s->kernel_h = (size_t)s->spatial.kernel[s->three_d ? 1 : 0];
  s->kernel_w = (size_t)s->spatial.kernel[s->three_d ? 2 : 1];
  if (s->three_d) s->path = CONV_3D;
  else if (is_depthwise(s) && conv_taps(s) <= OFX_DWCONV_MAX_TAPS) s->path = CONV_DEPTHWISE; /* 3x3, 5x5, 7x7 (ConvNeXt) */
  else if (is_depthwise(s)) s->path = CONV_DEPTHWISE_GENERIC; /* more than OFX_DWCONV_MAX_TAPS taps: plain loops */
  else s->path = CONV_IGEMM; /* reshape may pick CONV_GEMM for 1x1 shapes; the packing is the same */
  if (s->path == CONV_IGEMM || s->path == CONV_3D)
    s->packed_group_stride = ofx_x32_packw_gemm_size(s->out_channels / s->groups, conv_taps(s) * s->in_channels_per_group,
                                                     ofx_kernels()->gemm_nr);
  return OFX_OK;
}

/* Floats the path's packed weights take (0: it reads OIHW weights, or 1-D). */
static size_t conv_packed_floats(const conv_state *s) {
  if (s->one_d) return 0;
  switch (s->path) {
    case CONV_DEPTHWISE: return ofx_x32_packw_dwconv_size(s->out_channels, conv_taps(s), ofx_kernels()->dwconv_cr);
    case CONV_GEMM: case CONV_IGEMM: case CONV_3D: return s->packed_group_stride * s->groups;
    case CONV_DEPTHWISE_GENERIC: return 0;
  }
  return 0;
}

/* Packs weights w (OIHW / OIDHW, maybe unaligned) and bias (NULL: zeros) for the path. */
static void conv_pack(const conv_state *s, const void *w, const float *bias, float *packed) {
  const ofx_kernel_config *k = ofx_kernels();
  const size_t taps = conv_taps(s), cout_g = s->out_channels / s->groups;
  const size_t group_bytes = cout_g * s->in_channels_per_group * taps * sizeof(float);
  for (size_t g = 0; g < s->groups && s->path != CONV_DEPTHWISE; g++) {
    const char *wg = (const char *)w + g * group_bytes;
    const float *bg = bias ? bias + g * cout_g : NULL;
    if (s->path == CONV_3D) /* [cout_g][cin_g * taps], the im2col rows' order */
      ofx_x32_packw_gemm_goi(cout_g, s->in_channels_per_group * taps, k->gemm_nr, wg, bg, packed + g * s->packed_group_stride);
    else
      ofx_x32_packw_conv_oihw(cout_g, s->in_channels_per_group, s->kernel_h, s->kernel_w, k->gemm_nr, wg, bg,
                              packed + g * s->packed_group_stride);
  }
  if (s->path == CONV_DEPTHWISE) ofx_x32_packw_dwconv_chw(s->out_channels, taps, k->dwconv_cr, w, bias, packed);
}

static ofx_status conv_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(conv_state)));
  conv_state *s = op->state;
  s->output_min = -INFINITY;
  s->output_max = INFINITY;
  const ofx_value *w = ofx_op_const_input(op, 1);
  const bool has_bias = ofx_op_has_input(op, 2);
  const ofx_value *b = has_bias ? ofx_op_const_input(op, 2) : NULL;
  if (!ofx_op_has_input(op, 1)) return ofx_op_error(op, OFX_BAD_MODEL, "input 1 (weights) is missing");
  if (w == NULL || (has_bias && b == NULL)) {
    /* computed at run time: reshape validates their shapes, run packs them */
    s->unpacked = true;
    s->bias_at_run = has_bias;
    return OFX_OK;
  }
  if (w->dtype != OFX_DTYPE_FLOAT32)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "weights have type %s, only float32 is supported",
                        onnx_dtype_name((int32_t)w->dtype));
  OFX_TRY(conv_geometry(op, s, w->rank, w->dims));

  ofx_op_mark_input(op, 1, OFX_INPUT_PACKED);
  if (op->shapes_only) return OFX_OK; /* reshape needs no weights */
  s->bias = calloc(s->out_channels, sizeof(float));
  if (!s->bias) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
  if (has_bias) {
    if (b->dtype != OFX_DTYPE_FLOAT32 || b->nbytes != s->out_channels * sizeof(float))
      return ofx_op_error(op, OFX_BAD_MODEL, "bias must be float32 with %zu elements", s->out_channels);
    memcpy(s->bias, b->data, b->nbytes);
    ofx_op_mark_input(op, 2, OFX_INPUT_PACKED);
  }

  /* The NHWC and 3-D paths pack straight from the (possibly unaligned) model bytes; only the
   * 1-D and DEPTHWISE_GENERIC paths read OIHW weights at run time and keep an aligned copy, so
   * the model holds the weights once, packed or copied, never twice. */
  const size_t packed = conv_packed_floats(s);
  if (packed) {
    float *p = malloc(packed * sizeof(float));
    if (p == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
    conv_pack(s, w->data, s->bias, p);
    return ofx_packed_weights_keep(op, p, packed, &s->packed);
  }
  s->weights = malloc(w->nbytes);
  if (s->weights == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory copying weights");
  memcpy(s->weights, w->data, w->nbytes); /* aligned: the model bytes may not be */
  op->packed_bytes = w->nbytes + s->out_channels * sizeof(float);
  return OFX_OK;
}

/* Weights for the NCHW reference path: the kept copy, the input itself when computed at run
 * time, else (a Conv evaluated at plan time) an aligned copy from the model into the scratch
 * that reshape asked for. */
static const float *conv_nchw_weights(const ofx_op *op, const conv_state *s, const ofx_tensor *in, void *scratch) {
  if (s->weights) return s->weights;
  if (s->unpacked) return in[1].data;
  const ofx_value *w = ofx_op_const_input(op, 1);
  /* deferred external weights are read again; a file that fails now (it was read at create)
   * leaves zeros rather than garbage, as run cannot report */
  if (ofx_graph_read_constant(op->graph, (int)(w - op->graph->values), scratch) != OFX_OK) memset(scratch, 0, w->nbytes);
  return scratch;
}

/* The unpacked path: weights and bias from the inputs, validated against each other. */
static ofx_status conv_reshape_unpacked(ofx_op *op, const ofx_tensor *in) {
  conv_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 1, OFX_DTYPE_FLOAT32, -1));
  OFX_TRY(conv_geometry(op, s, in[1].rank, in[1].dims));
  if (in[0].rank >= 0 && in[0].rank != in[1].rank) {
    char a[96], b[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input 0 %s and weights (input 1) %s must have the same rank",
                        ofx_shape_str(in[0].dims, in[0].rank, a, sizeof a), ofx_shape_str(in[1].dims, in[1].rank, b, sizeof b));
  }
  if (s->bias_at_run) {
    OFX_TRY(ofx_op_check_input(op, in, 2, OFX_DTYPE_FLOAT32, 1));
    if ((size_t)in[2].dims[0] != s->out_channels)
      return ofx_op_error(op, OFX_BAD_INPUT, "bias (input 2) has %lld values, the weights have %zu output channels",
                          (long long)in[2].dims[0], s->out_channels);
  }
  return OFX_OK;
}

/* Floats rounded up to whole 16-byte blocks, so that what follows in scratch stays aligned. */
static size_t aligned_floats(size_t n) { return (n + 3) & ~(size_t)3; }

/* Floats at the front of scratch for the float32 weights the NHWC and 3-D paths run on: packed
 * there by run on the unpacked path, widened there from float16 storage (the size
 * ofx_packed_weights_scratch_bytes asks); 0 otherwise. */
static size_t scratch_packed_floats(const conv_state *s) {
  return s->unpacked || s->packed.half ? aligned_floats(conv_packed_floats(s)) : 0;
}

static ofx_status conv3d_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  conv_state *s = op->state;
  const int64_t *x = in[0].dims;
  int64_t out_spatial[3];
  size_t pads_begin[3];
  OFX_TRY(ofx_spatial_output_shape(op, &s->spatial, x + 2, out_spatial, pads_begin, NULL));
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 5;
  out[0].layout = OFX_LAYOUT_NCHW;
  out[0].dims[0] = x[0];
  out[0].dims[1] = (int64_t)s->out_channels;
  conv3d_geometry *g = &s->g3;
  size_t out_plane = 1;
  for (int i = 0; i < 3; i++) {
    out[0].dims[2 + i] = out_spatial[i];
    g->in[i] = (size_t)x[2 + i];
    g->out[i] = (size_t)out_spatial[i];
    g->kernel[i] = (size_t)s->spatial.kernel[i];
    g->stride[i] = (size_t)s->spatial.strides[i];
    g->dilation[i] = (size_t)s->spatial.dilations[i];
    g->pad[i] = pads_begin[i];
    out_plane *= g->out[i];
  }
  g->k = s->in_channels_per_group * conv_taps(s);
  g->tile = CONV3D_COL_FLOATS / g->k;
  if (g->tile < ofx_kernels()->gemm_mr) g->tile = ofx_kernels()->gemm_mr; /* deep kernels: a few rows still */
  if (g->tile > out_plane) g->tile = out_plane ? out_plane : 1;
  s->col_offset = scratch_packed_floats(s);
  s->tile_offset = s->col_offset + aligned_floats(g->tile * g->k);
  op->scratch_bytes = (s->tile_offset + g->tile * (s->out_channels / s->groups)) * sizeof(float);
  return OFX_OK;
}

static ofx_status conv_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  conv_state *s = op->state;
  if (s->unpacked) OFX_TRY(conv_reshape_unpacked(op, in));
  const int rank = s->one_d ? 3 : s->three_d ? 5 : 4;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, rank));
  int64_t x1d[4];
  const int64_t *x = in[0].dims; /* logical NCHW whatever the layout */
  if ((size_t)x[1] != s->in_channels_per_group * s->groups) {
    char shape[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "input has %lld channels (shape %s), the weights expect %zu",
                        (long long)x[1], ofx_shape_str(x, rank, shape, sizeof shape), s->in_channels_per_group * s->groups);
  }
  if (s->three_d) return conv3d_reshape(op, in, out);
  if (s->one_d) { /* rank 3 is never converted to NHWC: it stays on the reference path */
    x1d[0] = x[0], x1d[1] = x[1], x1d[2] = 1, x1d[3] = x[2];
    x = x1d;
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
    if (s->weights == NULL && !s->unpacked)
      op->scratch_bytes = s->out_channels * s->in_channels_per_group * s->kernel_h * s->kernel_w * sizeof(float);
    return OFX_OK;
  }

  const ofx_conv2d_params *p = &s->params;
  bool pointwise = p->kernel_height == 1 && p->kernel_width == 1 && p->stride_height == 1 && p->stride_width == 1 &&
                   p->pad_top == 0 && p->pad_left == 0 && p->out_height == p->in_height && p->out_width == p->in_width;
  if (s->path == CONV_IGEMM || s->path == CONV_GEMM) s->path = pointwise && s->groups == 1 ? CONV_GEMM : CONV_IGEMM;
  op->scratch_bytes = scratch_packed_floats(s) * sizeof(float);
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
 * inner loop runs along contiguous channels, which the compiler vectorizes). weights
 * [c][1][kh][kw]; bias NULL: zeros. */
static void depthwise_generic_nhwc(const conv_state *s, const float *weights, const float *bias, const float *x, float *y) {
  const ofx_conv2d_params *p = &s->params;
  const size_t c = s->out_channels;
  for (size_t oy = 0; oy < p->out_height; oy++) {
    for (size_t ox = 0; ox < p->out_width; ox++) {
      float *o = y + (oy * p->out_width + ox) * c;
      if (bias) memcpy(o, bias, c * sizeof(float));
      else memset(o, 0, c * sizeof(float));
      for (size_t ky = 0; ky < p->kernel_height; ky++) {
        long long iy = (long long)(oy * p->stride_height + ky * p->dilation_height) - (long long)p->pad_top;
        if (iy < 0 || iy >= (long long)p->in_height) continue;
        for (size_t kx = 0; kx < p->kernel_width; kx++) {
          long long ix = (long long)(ox * p->stride_width + kx * p->dilation_width) - (long long)p->pad_left;
          if (ix < 0 || ix >= (long long)p->in_width) continue;
          const float *in = x + ((size_t)iy * p->in_width + (size_t)ix) * c;
          const float *w = weights + ky * p->kernel_width + kx;
          const size_t w_stride = p->kernel_height * p->kernel_width;
          for (size_t ch = 0; ch < c; ch++) o[ch] += in[ch] * w[ch * w_stride];
        }
      }
      for (size_t ch = 0; ch < c; ch++) o[ch] = ofx_clampf(o[ch], s->output_min, s->output_max);
    }
  }
}

/* Unfolds output pixels [p0, p0 + t) of one group of one NCDHW image x into rows of
 * [cin_g][kd][kh][kw] (the packed weights' order), zeros where the window leaves the input. */
static void conv3d_im2col(const conv_state *s, const float *x, size_t p0, size_t t, float *col) {
  const conv3d_geometry *g = &s->g3;
  const size_t in_plane = g->in[0] * g->in[1] * g->in[2], taps = g->kernel[0] * g->kernel[1] * g->kernel[2];
  for (size_t i = 0; i < t; i++) {
    const size_t p = p0 + i, o2 = p % g->out[2], o1 = p / g->out[2] % g->out[1], o0 = p / g->out[2] / g->out[1];
    float *row = col + i * g->k;
    for (size_t k0 = 0; k0 < g->kernel[0]; k0++) {
      const long long i0 = (long long)(o0 * g->stride[0] + k0 * g->dilation[0]) - (long long)g->pad[0];
      const bool in0 = i0 >= 0 && i0 < (long long)g->in[0];
      for (size_t k1 = 0; k1 < g->kernel[1]; k1++) {
        const long long i1 = (long long)(o1 * g->stride[1] + k1 * g->dilation[1]) - (long long)g->pad[1];
        const bool in1 = in0 && i1 >= 0 && i1 < (long long)g->in[1];
        for (size_t k2 = 0; k2 < g->kernel[2]; k2++) {
          const long long i2 = (long long)(o2 * g->stride[2] + k2 * g->dilation[2]) - (long long)g->pad[2];
          const size_t tap = (k0 * g->kernel[1] + k1) * g->kernel[2] + k2;
          if (!in1 || i2 < 0 || i2 >= (long long)g->in[2]) {
            for (size_t c = 0; c < s->in_channels_per_group; c++) row[c * taps + tap] = 0.0f;
            continue;
          }
          const float *src = x + ((size_t)i0 * g->in[1] + (size_t)i1) * g->in[2] + (size_t)i2;
          for (size_t c = 0; c < s->in_channels_per_group; c++) row[c * taps + tap] = src[c * in_plane];
        }
      }
    }
  }
}

/* 3-D: per image, group and tile of output pixels, im2col -> GEMM (bias, clamp and fused
 * activation in its epilogue) -> transposed into the group's channel planes. */
static void conv3d_run(const conv_state *s, size_t batch, const float *packed, const float *x, float *y, float *scratch,
                       ofx_threadpool *pool) {
  const conv3d_geometry *g = &s->g3;
  const size_t in_plane = g->in[0] * g->in[1] * g->in[2], out_plane = g->out[0] * g->out[1] * g->out[2];
  const size_t cin_g = s->in_channels_per_group, cout_g = s->out_channels / s->groups;
  float *col = scratch + s->col_offset, *tile = scratch + s->tile_offset;
  for (size_t n = 0; n < batch; n++)
    for (size_t grp = 0; grp < s->groups; grp++) {
      const float *xg = x + (n * s->groups + grp) * cin_g * in_plane;
      float *yg = y + (n * s->groups + grp) * cout_g * out_plane;
      for (size_t p0 = 0; p0 < out_plane; p0 += g->tile) {
        const size_t t = ofx_min_sz(g->tile, out_plane - p0);
        conv3d_im2col(s, xg, p0, t, col);
        ofx_f32_gemm_post(t, cout_g, g->k, col, g->k, packed + grp * s->packed_group_stride, tile, cout_g, s->output_min,
                          s->output_max, s->post, pool);
        ofx_kernels()->x32_transpose(t, cout_g, (const uint32_t *)tile, cout_g, (uint32_t *)(yg + p0), out_plane);
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
  /* the unpacked path: packed into the front of scratch now, from the inputs */
  const float *bias = s->unpacked ? (s->bias_at_run ? in[2].data : NULL) : s->bias;
  const float *packed = NULL;
  if (conv_packed_floats(s) && (s->three_d || in[0].layout == OFX_LAYOUT_NHWC)) {
    if (s->unpacked) conv_pack(s, in[1].data, bias, ctx->scratch);
    packed = s->unpacked ? ctx->scratch : ofx_packed_weights_for_run(&s->packed, ctx->scratch, ctx->pool);
  }
  if (s->three_d) {
    conv3d_run(s, batch, packed, x, y, ctx->scratch, ctx->pool);
    return;
  }
  if (in[0].layout != OFX_LAYOUT_NHWC) {
    const size_t w_group = p->out_channels * p->in_channels * p->kernel_height * p->kernel_width;
    const float *weights = conv_nchw_weights(op, s, in, ctx->scratch);
    for (size_t n = 0; n < batch; n++)
      for (size_t g = 0; g < groups; g++)
        ofx_f32_conv2d_nchw_minmax__scalar(p, x + n * in_image + g * (in_image / groups), weights + g * w_group,
                                           bias ? bias + g * p->out_channels : NULL,
                                           y + n * out_image + g * (out_image / groups));
    if (s->post) ofx_f32_vunary(s->post, batch * out_image, y, y, ctx->pool);
    return;
  }
  const size_t out_pixels = p->out_height * p->out_width, taps = p->kernel_height * p->kernel_width;
  switch (s->path) {
    case CONV_GEMM:
      ofx_f32_gemm_post(batch * out_pixels, cout, cin, x, cin, packed, y, cout, s->output_min, s->output_max, s->post,
                        ctx->pool);
      break;
    case CONV_DEPTHWISE:
      for (size_t n = 0; n < batch; n++) {
        size_t offset = (size_t)((uintptr_t)(x + n * in_image) - (uintptr_t)FAKE_INPUT);
        ofx_f32_dwconv(taps, cout, out_pixels, s->indirection, packed, y + n * out_image, cout, offset, s->zero,
                       s->output_min, s->output_max, s->post, ctx->pool);
      }
      break;
    case CONV_DEPTHWISE_GENERIC: {
      const float *weights = s->unpacked ? in[1].data : s->weights;
      for (size_t n = 0; n < batch; n++) depthwise_generic_nhwc(s, weights, bias, x + n * in_image, y + n * out_image);
      if (s->post) ofx_f32_vunary(s->post, batch * out_image, y, y, ctx->pool);
      break;
    }
    case CONV_IGEMM:
      for (size_t n = 0; n < batch; n++) {
        for (size_t g = 0; g < groups; g++) {
          const float *group_input = x + n * in_image + g * p->in_channels;
          size_t offset = (size_t)((uintptr_t)group_input - (uintptr_t)FAKE_INPUT);
          ofx_f32_igemm(ofx_kernels()->igemm_mr, out_pixels, p->out_channels, p->in_channels, taps, s->indirection,
                        packed + g * s->packed_group_stride, y + n * out_image + g * p->out_channels, cout, offset,
                        s->zero, s->output_min, s->output_max, s->post, ctx->pool);
        }
      }
      break;
    case CONV_3D: break; /* run above */
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
    case OFX_ACTIVATION_ROUND_TRIP: return false; /* a float conv's output quantized: the 8-bit path fuses it */
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
