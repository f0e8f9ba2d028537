/* Every registered depthwise micro-kernel against a naive NHWC depthwise convolution: 3x3 and
 * 5x5 taps (any-taps kernels also 1x1, 2x2, 4x4, 7x7), stride 1 and 2, dilation, padding, channel counts around the channel tile, a
 * pixel stride larger than the channel count and a moved input (input_offset); then the
 * ofx_f32_dwconv driver, inline and threaded. */
#include <string.h>

#include "conv-ref.h"
#include "kernel-test.h"
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "threadpool/threadpool.h"

typedef struct variant {
  const char *name, *arch;
  ofx_f32_dwconv_minmax_ukernel_fn fn;
  size_t taps, cr;
} variant;

static const variant variants[] = {
#define OFX_DWCONV_UKERNEL(arch, uk, taps, cr) {#uk, #arch, uk, taps, cr},
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef OFX_DWCONV_UKERNEL
};

static void run_case(const variant *v, ofx_threadpool *pool, size_t k, size_t stride, size_t dil,
                     size_t in_h, size_t in_w, size_t channels, size_t x_extra, int relu6) {
  conv_shape s = {.in_h = in_h, .in_w = in_w, .kh = k, .kw = k, .stride_h = stride,
                  .stride_w = stride, .dil_h = dil, .dil_w = dil, .pad_top = k / 2 * dil,
                  .pad_left = k / 2 * dil};
  conv_shape_finish(&s);
  const size_t taps = k * k, cr = v ? v->cr : ofx_kernels()->dwconv_cr;
  const size_t pixels = s.out_h * s.out_w, x_stride = channels + x_extra;
  const size_t x_size = in_h * in_w * x_stride;
  float *x = malloc(x_size * sizeof(float)), *x_moved = malloc(x_size * sizeof(float));
  kt_fill(x, x_size);
  memcpy(x_moved, x, x_size * sizeof(float));
  float *w = malloc(channels * taps * sizeof(float)), *bias = malloc(channels * sizeof(float));
  kt_fill(w, channels * taps);
  kt_fill(bias, channels);
  float *packed = malloc(ofx_x32_packw_dwconv_size(channels, taps, cr) * sizeof(float));
  ofx_x32_packw_dwconv_chw(channels, taps, cr, w, bias, packed);
  float *zero = calloc(channels, sizeof(float));
  const float **ind = malloc(ofx_indirection_size_conv2d(s.out_h, s.out_w, k, k, 1) * sizeof(*ind));
  ofx_indirection_init_conv2d_nhwc(ind, x, x_stride, zero, in_h, in_w, s.out_h, s.out_w, k, k,
                                   stride, stride, dil, dil, s.pad_top, s.pad_left, 1);
  const size_t offset = (size_t)((uintptr_t)x_moved - (uintptr_t)x);
  float *ref = malloc(pixels * channels * sizeof(float)), *mag = malloc(pixels * channels * sizeof(float));
  conv_ref_nhwc(&s, 1, channels, 1, x, x_stride, 0, w, bias, ref, mag);
  const size_t out_stride = channels + 2;
  float *y = kt_canary_alloc(pixels * out_stride);
  const float lo = relu6 ? 0.0f : -INFINITY, hi = relu6 ? 6.0f / 8 : INFINITY;
  if (v != NULL) {
    const ofx_f32_minmax_params params = {lo, hi};
    v->fn(taps, channels, pixels, ind, packed, y, taps, out_stride, offset, zero, &params);
  } else {
    ofx_f32_dwconv(taps, channels, pixels, ind, packed, y, out_stride, offset, zero, lo, hi, NULL, pool);
  }
  int ok = 1;
  for (size_t p = 0; p < pixels; p++)
    for (size_t c = 0; c < out_stride; c++) {
      const float got = y[p * out_stride + c];
      ok = ok && (c < channels ? kt_close(got, ofx_clampf(ref[p * channels + c], lo, hi),
                                          mag[p * channels + c], KT_F32_DOT_TOL)
                               : got == KT_CANARY);
    }
  KT_CHECK_CASE(ok, "%s threads=%zu k=%zu stride=%zu dil=%zu in=%zux%zu c=%zu extra=%zu",
                v ? v->name : "ofx_f32_dwconv", ofx_threadpool_threads_count(pool), k, stride, dil,
                in_h, in_w, channels, x_extra);
  free(x), free(x_moved), free(w), free(bias), free(packed), free(zero), free(ind), free(ref),
      free(mag), free(y);
}

/* What a kernel computes per step, exactly (kt_madd_rounding), as in test-f32-gemm.c: 13 channels
 * (a block of 8, of 4, and one), 3 pixels (a pair and the odd one), input KT_MADD_A on the first
 * tap and the zero buffer on the others, weights KT_MADD_B on the first tap and 5 on the others,
 * bias -1. Returns how many of the vector lanes' outputs (the first 12 channels) were fused; -1 if
 * any output is wrong. */
#define MADD_OUTPUTS(v) (3 * 12)
static int madd_outputs(const variant *v) {
  const size_t channels = 13, pixels = 3, taps = v->taps ? v->taps : 3;
  float x[13], zero[13] = {0}, w[13 * 25], bias[13], y[3 * 13];
  const float *ind[3 * 25];
  for (size_t c = 0; c < channels; c++) {
    x[c] = KT_MADD_A, bias[c] = -1.0f;
    for (size_t t = 0; t < taps; t++) w[c * taps + t] = t == 0 ? KT_MADD_B : 5.0f;
  }
  for (size_t p = 0; p < pixels; p++)
    for (size_t t = 0; t < taps; t++) ind[p * taps + t] = t == 0 ? x : zero;
  float *packed = malloc(ofx_x32_packw_dwconv_size(channels, taps, v->cr) * sizeof(float));
  ofx_x32_packw_dwconv_chw(channels, taps, v->cr, w, bias, packed);
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  v->fn(taps, channels, pixels, ind, packed, y, taps, channels, 0, zero, &params);
  free(packed);
  int fused = 0;
  for (size_t p = 0; p < pixels; p++)
    for (size_t c = 0; c < channels; c++) {
      const int r = kt_madd_rounding(y[p * channels + c]);
      if (r < 0) return -1;
      fused += c < 12 ? r : 0;
    }
  return fused;
}

int main(void) {
  kt_seed(4);
  const size_t nvar = sizeof variants / sizeof *variants;
  size_t simd = 0;
  size_t relaxed = 0;
  for (size_t i = 0; i < nvar; i++) {
    simd += strcmp(variants[i].arch, "wasmsimd") == 0;
    relaxed += strcmp(variants[i].arch, "wasmrelaxedsimd") == 0;
  }
  CHECK(simd == (OFX_ARCH_WASMSIMD ? 5u : 0u));
  CHECK(relaxed == (OFX_ARCH_WASMRELAXEDSIMD ? 2u : 0u));
#if OFX_ARCH_WASMRELAXEDSIMD
  CHECK(ofx_kernels()->f32_dwconv_9 == ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma);
  CHECK(ofx_kernels()->f32_dwconv_25 == ofx_f32_dwconv_minmax_ukernel_25p8c__wasmrelaxedsimd_fma);
  CHECK(ofx_kernels()->f32_dwconv_any == ofx_f32_dwconv_minmax_ukernel_up8c__wasmrelaxedsimd_fma);
#endif
  for (size_t vi = 0; vi < nvar; vi++) {
    const int fused = madd_outputs(&variants[vi]);
    if (strcmp(variants[vi].arch, "wasmrelaxedsimd") == 0)
      KT_CHECK_CASE(fused == 0 || fused == MADD_OUTPUTS(&variants[vi]),
                    "%s: acc + a*b neither fused nor mul+add on every output (%d fused)", variants[vi].name, fused);
    else if (strcmp(variants[vi].arch, "wasmsimd") == 0)
      KT_CHECK_CASE(fused == 0, "%s: acc + a*b is not mul+add (%d fused)", variants[vi].name, fused);
    else /* scalar C: a native compiler may contract it into an FMA where the target has one */
      KT_CHECK_CASE(fused >= 0, "%s: acc + a*b is wrong", variants[vi].name);
  }
  const size_t channels[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 16, 17, 31, 144};
  for (size_t vi = 0; vi < nvar; vi++) {
    const variant *v = &variants[vi];
    const size_t any_k[] = {1, 2, 3, 4, 5, 7};
    for (size_t ki = 0; ki < (v->taps == 0 ? sizeof any_k / sizeof *any_k : 1); ki++) {
      const size_t k = v->taps == 0 ? any_k[ki] : v->taps == 9 ? 3 : 5;
      for (size_t ci = 0; ci < sizeof channels / sizeof *channels; ci++)
        for (size_t stride = 1; stride <= 2; stride++) {
          run_case(v, NULL, k, stride, 1, kt_range(k, 11), kt_range(1, 11), channels[ci], ci % 3, (int)(ci & 1));
          run_case(v, NULL, k, stride, 2, kt_range(1, 9), kt_range(1, 9), channels[ci], 0, 0);
        }
    }
  }
  ofx_threadpool *pool = ofx_threadpool_create(3);
  for (int r = 0; r < 30; r++) {
    const size_t ks[] = {3, 5, 7}, k = ks[r % 3], c = kt_range(1, 40), h = kt_range(1, 20), wd = kt_range(1, 20);
    run_case(NULL, NULL, k, 1 + (r & 2) / 2, 1, h, wd, c, r % 2, r % 3 == 0);
    run_case(NULL, pool, k, 1 + (r & 2) / 2, 1, h, wd, c, r % 2, r % 3 == 0);
  }
  run_case(NULL, pool, 3, 1, 1, 40, 40, 64, 0, 0); /* above OFX_GEMM_MIN_PARALLEL_MACS */
  run_case(NULL, pool, 7, 1, 1, 30, 30, 37, 1, 1);
  run_case(NULL, pool, 5, 2, 1, 40, 40, 30, 0, 0);
  ofx_threadpool_destroy(pool);
  return ofx_test_finish("test-kernels-f32-dwconv");
}
