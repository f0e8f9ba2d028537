/* 8-bit convolution and matrix product on the 8-bit GEMM (q8-product.h). */
#include "ops/q8-product.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/kernel-config.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "kernels/x8-transpose/x8-transpose.h"
#include "threadpool/threadpool.h"
#include "ops/typed.h"

/* Sums of K products of two values in [-255, 255] stay in int32 below this (q8-gemm.h). */
#define Q8_MAX_K 32767

/* Channel runs shorter than this are widened inline: a kernel call per tap costs more (conv1's
 * 3 channels x 49 taps). */
#define Q8_INLINE_RUN 16

/* Depthwise kernels up to 11x11 take the direct path (its tap pointers live on the stack). */
#define Q8_DW_MAX_TAPS 121

static bool is_8bit(ofx_dtype t) { return t == OFX_DTYPE_UINT8 || t == OFX_DTYPE_INT8; }

static float load_f32(const ofx_value *v, size_t i) {
  float f;
  memcpy(&f, (const char *)v->data + i * sizeof f, sizeof f);
  return f;
}

static int32_t load_8bit(const void *data, bool is_signed, size_t i) {
  return is_signed ? ((const int8_t *)data)[i] : ((const uint8_t *)data)[i];
}

void ofx_q8_product_free(ofx_q8_product *p) {
  free(p->w_scale);
  free(p->packed);
  p->w_scale = NULL;
  p->packed = NULL;
}

static float *dw_scales(const ofx_q8_product *p) { return (float *)p->packed; }
static float *dw_biases(const ofx_q8_product *p) { return (float *)p->packed + p->n; }
static int16_t *dw_weights(const ofx_q8_product *p) { return (int16_t *)((float *)p->packed + 2 * p->n); }

/* Depthwise weights [C, 1, kh, kw] as int16 [tap][C] with their zero points taken off. */
static bool pack_depthwise(ofx_q8_product *p, const ofx_q8_weights *wq, const float *float_bias, const int32_t *int_bias,
                           float scale_factor) {
  const ofx_value *w = wq->w, *scale = wq->scale, *zp = wq->zero_point;
  const size_t n = p->n, taps = p->kh * p->kw, n_scale = scale->nbytes / sizeof(float), n_zp = zp ? zp->nbytes : 1;
  const bool is_signed = w->dtype == OFX_DTYPE_INT8;
  p->depthwise = true;
  p->scale_factor = scale_factor;
  p->packed_bytes = n * 2 * sizeof(float) + taps * n * sizeof(int16_t);
  p->w_scale = malloc(n * sizeof(float));
  p->packed = malloc(p->packed_bytes);
  if (!p->w_scale || !p->packed) {
    ofx_q8_product_free(p);
    return false;
  }
  for (size_t c = 0; c < n; c++) {
    p->w_scale[c] = load_f32(scale, n_scale == 1 ? 0 : c);
    dw_scales(p)[c] = scale_factor * p->w_scale[c];
    dw_biases(p)[c] = float_bias ? float_bias[c] : int_bias ? (float)int_bias[c] * dw_scales(p)[c] : 0.0f;
    const int32_t z = zp ? load_8bit(zp->data, is_signed, n_zp == 1 ? 0 : c) : 0;
    for (size_t t = 0; t < taps; t++) dw_weights(p)[t * n + c] = (int16_t)(load_8bit(w->data, is_signed, c * taps + t) - z);
  }
  return true;
}

bool ofx_q8_product_pack(ofx_q8_product *p, bool conv, const ofx_q8_weights *wq, const float *float_bias,
                         const int32_t *int_bias, float scale_factor) {
  const ofx_value *w = wq->w, *scale = wq->scale, *zp = wq->zero_point;
  *p = (ofx_q8_product){.conv = conv, .output_min = -INFINITY, .output_max = INFINITY};
  if (!w || !scale || !is_8bit(w->dtype) || (w->data == NULL && w->nbytes) || (conv ? w->rank != 4 : w->rank != 2)) return false;
  if (scale->dtype != OFX_DTYPE_FLOAT32 || scale->data == NULL || (zp && (zp->dtype != w->dtype || zp->data == NULL))) return false;
  const size_t n = (size_t)w->dims[conv ? 0 : 1], groups = conv ? wq->groups : 1;
  const size_t k = conv ? (size_t)(w->dims[1] * w->dims[2] * w->dims[3]) : (size_t)w->dims[0];
  const size_t n_scale = scale->nbytes / sizeof(float), n_zp = zp ? zp->nbytes : 1;
  const bool per_axis = n_scale != 1 || n_zp != 1;
  if (n == 0 || k == 0 || k > Q8_MAX_K || groups == 0 || n % groups != 0) return false;
  if ((n_scale != 1 && n_scale != n) || (n_zp != 1 && n_zp != n) || (per_axis && wq->axis != (conv ? 0 : 1))) return false;
  p->groups = groups;
  p->group_n = n / groups;
  p->n = n;
  p->k = k;
  p->k_stride = ofx_round_up(k, OFX_Q8_GEMM_KR);
  if (conv) p->cg = (size_t)w->dims[1], p->kh = (size_t)w->dims[2], p->kw = (size_t)w->dims[3];
  if (conv && groups > 1 && p->group_n == 1 && p->cg == 1 && p->kh * p->kw <= Q8_DW_MAX_TAPS) return pack_depthwise(p, wq, float_bias, int_bias, scale_factor);
  p->nr = ofx_kernels()->q8_gemm_nr;
  p->block_bytes = ofx_q8_packw_gemm_size(p->nr, k, p->nr);
  p->group_bytes = ofx_q8_packw_gemm_size(p->group_n, k, p->nr);
  p->scale_factor = scale_factor;
  p->w_scale = malloc(n * sizeof(float));
  p->packed = malloc(p->group_bytes * groups);
  float *scales = malloc(n * sizeof(float)), *bias = calloc(n, sizeof(float));
  int32_t *zero = calloc(n, sizeof(int32_t));
  uint8_t *reordered = conv ? malloc(n * k) : NULL; /* [N][tap][channel] */
  if (!p->w_scale || !p->packed || !scales || !bias || !zero || (conv && !reordered)) {
    free(scales), free(bias), free(zero), free(reordered);
    ofx_q8_product_free(p);
    return false;
  }
  const bool is_signed = w->dtype == OFX_DTYPE_INT8;
  for (size_t j = 0; j < n; j++) {
    p->w_scale[j] = load_f32(scale, n_scale == 1 ? 0 : j);
    scales[j] = scale_factor * p->w_scale[j];
    bias[j] = float_bias ? float_bias[j] : int_bias ? (float)int_bias[j] * scales[j] : 0.0f;
    if (zp) zero[j] = load_8bit(zp->data, is_signed, n_zp == 1 ? 0 : j);
  }
  if (conv) {
    const size_t taps = p->kh * p->kw;
    for (size_t j = 0; j < n; j++)
      for (size_t c = 0; c < p->cg; c++)
        for (size_t t = 0; t < taps; t++) reordered[j * k + t * p->cg + c] = ((const uint8_t *)w->data)[j * k + c * taps + t];
  }
  for (size_t g = 0; g < groups; g++) {
    const size_t first = g * p->group_n;
    const void *wg = conv ? (const void *)(reordered + first * k) : w->data;
    ofx_q8_packw_gemm(p->group_n, k, p->nr, wg, conv ? k : 1, conv ? 1 : n, is_signed, zero + first, true, scales + first,
                      bias + first, p->packed + g * p->group_bytes);
  }
  free(scales), free(bias), free(zero), free(reordered);
  p->packed_bytes = p->group_bytes * groups;
  return true;
}

void ofx_q8_product_set_scale(ofx_q8_product *p, float scale_factor) {
  if (scale_factor == p->scale_factor) return;
  p->scale_factor = scale_factor;
  if (p->depthwise) {
    for (size_t c = 0; c < p->n; c++) dw_scales(p)[c] = scale_factor * p->w_scale[c];
    return;
  }
  for (size_t g = 0; g < p->groups; g++)
    for (size_t j0 = 0; j0 < p->group_n; j0 += p->nr) {
      float *head = (float *)(p->packed + g * p->group_bytes + j0 / p->nr * p->block_bytes);
      for (size_t jj = 0; jj < p->nr && j0 + jj < p->group_n; jj++) head[jj] = scale_factor * p->w_scale[g * p->group_n + j0 + jj];
    }
}

/* ---- staging: the input as 8-bit values, NHWC for convolutions ---- */

static bool source_is_signed(const ofx_q8_source *s) {
  return (s->x->dtype == OFX_DTYPE_FLOAT32 ? s->qtype : s->x->dtype) == OFX_DTYPE_INT8;
}

static uint8_t quantize_one(float v, float scale, int32_t zero_point, bool is_signed) {
  const float q = nearbyintf(v / scale) + (float)zero_point, lo = is_signed ? -128.0f : 0.0f, hi = is_signed ? 127.0f : 255.0f;
  const int32_t r = (int32_t)(q >= lo ? (q <= hi ? q : hi) : lo); /* NaN: lo */
  return (uint8_t)r;
}

/* n contiguous elements of a float source as 8-bit values. */
static void quantize_run(const ofx_q8_source *s, size_t n, const float *x, uint8_t *y) {
  if (!source_is_signed(s)) {
    ofx_kernels()->f32_qu8_vcvt(n, x, s->scale, s->zero_point, y);
    return;
  }
  for (size_t i = 0; i < n; i++) y[i] = quantize_one(x[i], s->scale, s->zero_point, true);
}

/* Whether the source must be copied into scratch before rows are built. */
static bool needs_stage(const ofx_tensor *x, bool conv) {
  return x->dtype == OFX_DTYPE_FLOAT32 || (conv && x->layout != OFX_LAYOUT_NHWC);
}

/* Image b of a convolution's source as NHWC 8-bit values: the tensor itself, or `stage`. */
static const uint8_t *stage_image(const ofx_q8_geometry *g, const ofx_q8_source *s, size_t b, uint8_t *stage) {
  const size_t pixels = g->in_h * g->in_w, c = g->in_c, image = pixels * c;
  const ofx_tensor *x = s->x;
  if (x->dtype != OFX_DTYPE_FLOAT32) {
    const uint8_t *bytes = (const uint8_t *)x->data + b * image;
    if (x->layout == OFX_LAYOUT_NHWC) return bytes;
    ofx_x8_transpose__scalar(c, pixels, bytes, pixels, stage, c);
    return stage;
  }
  const float *f = (const float *)x->data + b * image;
  if (x->layout == OFX_LAYOUT_NHWC) {
    quantize_run(s, image, f, stage);
    return stage;
  }
  const bool is_signed = source_is_signed(s);
  for (size_t ch = 0; ch < c; ch++)
    for (size_t p = 0; p < pixels; p++) stage[p * c + ch] = quantize_one(f[ch * pixels + p], s->scale, s->zero_point, is_signed);
  return stage;
}

static void widen(size_t n, const uint8_t *x, bool is_signed, int32_t zero_point, int16_t *y) {
  if (n >= Q8_INLINE_RUN) {
    ofx_kernels()->x8_to_s16(n, x, is_signed, zero_point, y);
    return;
  }
  for (size_t i = 0; i < n; i++) y[i] = (int16_t)(load_8bit(x, is_signed, i) - zero_point);
}

size_t ofx_q8_conv_scratch(const ofx_q8_product *p, const ofx_q8_geometry *g, const ofx_tensor *x) {
  const size_t stage = needs_stage(x, true) ? ofx_round_up(g->in_h * g->in_w * g->in_c, 16) : 0;
  return stage + (p->depthwise ? ofx_round_up(p->n, 16) : g->out_h * g->out_w * p->k_stride * sizeof(int16_t));
}

typedef struct q8_dw_job {
  const ofx_q8_product *p;
  const ofx_q8_geometry *g;
  const uint8_t *image, *padding; /* padding: a channel run holding the zero point */
  bool is_signed;
  int32_t zero_point;
  float *y;
} q8_dw_job;

/* Output rows [i, i + rows) of one image, a pixel per micro-kernel call. */
static void q8_dw_rows(void *ctx, size_t i, size_t j, size_t rows, size_t cols) {
  const q8_dw_job *job = ctx;
  const ofx_q8_product *p = job->p;
  const ofx_q8_geometry *g = job->g;
  const ofx_q8_dwconv_minmax_ukernel_fn uk = ofx_kernels()->q8_dwconv;
  const uint8_t *taps[Q8_DW_MAX_TAPS];
  (void)j, (void)cols;
  for (size_t oy = i; oy < i + rows; oy++)
    for (size_t ox = 0; ox < g->out_w; ox++) {
      for (size_t ky = 0; ky < p->kh; ky++) {
        const int64_t yy = (int64_t)(oy * g->stride[0] + ky * g->dilation[0]) - (int64_t)g->pad_top;
        for (size_t kx = 0; kx < p->kw; kx++) {
          const int64_t xx = (int64_t)(ox * g->stride[1] + kx * g->dilation[1]) - (int64_t)g->pad_left;
          const bool inside = yy >= 0 && yy < (int64_t)g->in_h && xx >= 0 && xx < (int64_t)g->in_w;
          taps[ky * p->kw + kx] = inside ? job->image + ((size_t)yy * g->in_w + (size_t)xx) * p->n : job->padding;
        }
      }
      uk(p->n, p->kh * p->kw, taps, job->is_signed, job->zero_point, dw_weights(p), dw_scales(p), dw_biases(p),
         job->y + (oy * g->out_w + ox) * p->n, p->output_min, p->output_max);
    }
}

void ofx_q8_conv_run(const ofx_q8_product *p, const ofx_q8_geometry *g, const ofx_q8_source *src, float *y, void *scratch,
                     ofx_threadpool *pool) {
  const size_t m = g->out_h * g->out_w, taps = p->kh * p->kw;
  const bool staged = needs_stage(src->x, true), is_signed = source_is_signed(src);
  uint8_t *stage = scratch;
  int16_t *rows = (int16_t *)((char *)scratch + (staged ? ofx_round_up(g->in_h * g->in_w * g->in_c, 16) : 0));
  const int32_t zp = src->zero_point;
  if (p->depthwise) memset(rows, zp, p->n); /* the padding run: x - zp = 0 */
  for (size_t b = 0; b < g->batch && p->depthwise; b++) {
    q8_dw_job job = {p, g, stage_image(g, src, b, stage), (const uint8_t *)rows, is_signed, zp, y + b * m * p->n};
    const size_t per_row = g->out_w * p->n * taps; /* multiply-adds */
    ofx_threadpool_parallelize_2d_tile(per_row * g->out_h < 65536 ? NULL : pool, q8_dw_rows, &job, g->out_h, 1, 1, 1);
  }
  /* 1x1, stride 1, no padding, K already even: the rows are the image, widened in one call */
  const bool pointwise = taps == 1 && p->groups == 1 && p->k_stride == g->in_c && g->stride[0] == 1 && g->stride[1] == 1 &&
                         g->pad_top == 0 && g->pad_left == 0 && g->out_h == g->in_h && g->out_w == g->in_w;
  for (size_t b = 0; b < g->batch && !p->depthwise; b++) {
    const uint8_t *image = stage_image(g, src, b, stage);
    if (pointwise) {
      ofx_kernels()->x8_to_s16(m * g->in_c, image, is_signed, zp, rows);
      ofx_q8_gemm(m, p->n, p->k, rows, p->k_stride, p->packed, y + b * m * p->n, p->n, p->output_min, p->output_max, pool);
      continue;
    }
    for (size_t grp = 0; grp < p->groups; grp++) {
      for (size_t px = 0; px < m; px++) {
        int16_t *row = rows + px * p->k_stride;
        const size_t oy = px / g->out_w, ox = px % g->out_w;
        for (size_t i = 0; i < p->kh; i++) {
          const int64_t yy = (int64_t)(oy * g->stride[0] + i * g->dilation[0]) - (int64_t)g->pad_top;
          for (size_t j = 0; j < p->kw; j++) {
            const int64_t xx = (int64_t)(ox * g->stride[1] + j * g->dilation[1]) - (int64_t)g->pad_left;
            int16_t *dst = row + (i * p->kw + j) * p->cg;
            if (yy < 0 || yy >= (int64_t)g->in_h || xx < 0 || xx >= (int64_t)g->in_w) {
              memset(dst, 0, p->cg * sizeof *dst); /* padding holds the zero point */
              continue;
            }
            widen(p->cg, image + ((size_t)yy * g->in_w + (size_t)xx) * g->in_c + grp * p->cg, is_signed, zp, dst);
          }
        }
        for (size_t kk = taps * p->cg; kk < p->k_stride; kk++) row[kk] = 0;
      }
      ofx_q8_gemm(m, p->group_n, p->k, rows, p->k_stride, p->packed + grp * p->group_bytes, y + b * m * p->n + grp * p->group_n,
                  p->n, p->output_min, p->output_max, pool);
    }
  }
}

size_t ofx_q8_matmul_scratch(const ofx_q8_product *p, size_t rows, const ofx_tensor *x) {
  return (needs_stage(x, false) ? ofx_round_up(rows * p->k, 16) : 0) + rows * p->k_stride * sizeof(int16_t);
}

void ofx_q8_matmul_run(const ofx_q8_product *p, size_t rows, const ofx_q8_source *src, float *y, void *scratch,
                       ofx_threadpool *pool) {
  const bool staged = needs_stage(src->x, false), is_signed = source_is_signed(src);
  const uint8_t *a = src->x->data;
  int16_t *wide = (int16_t *)((char *)scratch + (staged ? ofx_round_up(rows * p->k, 16) : 0));
  if (staged) {
    quantize_run(src, rows * p->k, src->x->data, scratch);
    a = scratch;
  }
  for (size_t r = 0; r < rows; r++) {
    widen(p->k, a + r * p->k, is_signed, src->zero_point, wide + r * p->k_stride);
    for (size_t kk = p->k; kk < p->k_stride; kk++) wide[r * p->k_stride + kk] = 0;
  }
  ofx_q8_gemm(rows, p->n, p->k, wide, p->k_stride, p->packed, y, p->n, p->output_min, p->output_max, pool);
}
