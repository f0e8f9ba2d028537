/* The NHWC pooling kernels (scalar and, in WASM builds, wasmsimd) against the NCHW references
 * on random 2-D shapes: kernel sizes, strides, dilations, explicit and ceil-mode pads,
 * count_include_pad, channel counts around the SIMD widths, NaNs in max pooling; then the
 * global average. Max pooling must match exactly (NaN where the reference has NaN); average
 * pooling sums in the same order, so it matches exactly too. */
#include <float.h>
#include <string.h>

#include "kernel-test.h"
#include "kernels/f32-pool/f32-pool.h"
#include "kernels/kernel-config.h"

typedef struct variant {
  const char *name;
  ofx_f32_pool2d_nhwc_fn max, avg;
  ofx_f32_global_avgpool_nhwc_fn global;
} variant;

static const variant variants[] = {
    {"scalar", ofx_f32_maxpool2d_nhwc__scalar, ofx_f32_avgpool2d_nhwc__scalar, ofx_f32_global_avgpool_nhwc__scalar},
#if OFX_ARCH_WASMSIMD
    {"wasmsimd", ofx_f32_maxpool2d_nhwc__wasmsimd, ofx_f32_avgpool2d_nhwc__wasmsimd,
     ofx_f32_global_avgpool_nhwc__wasmsimd},
#endif
};

static int same(float a, float b) { return (a != a && b != b) || a == b; }

static void run_case(const variant *v, size_t channels, int with_nan) {
  ofx_pool2d_params p = {0};
  do {
    p.kernel_height = kt_range(1, 5), p.kernel_width = kt_range(1, 5);
    p.stride_height = kt_range(1, 4), p.stride_width = kt_range(1, 4);
    p.dilation_height = kt_range(1, 3), p.dilation_width = kt_range(1, 3);
    p.in_height = kt_range(1, 14), p.in_width = kt_range(1, 14);
    p.pad_top = kt_range(0, p.kernel_height), p.pad_left = kt_range(0, p.kernel_width);
    p.pad_bottom = kt_range(0, p.kernel_height), p.pad_right = kt_range(0, p.kernel_width);
  } while ((p.kernel_height - 1) * p.dilation_height + 1 > p.in_height + p.pad_top + p.pad_bottom ||
           (p.kernel_width - 1) * p.dilation_width + 1 > p.in_width + p.pad_left + p.pad_right);
  const size_t eff_h = (p.kernel_height - 1) * p.dilation_height + 1, eff_w = (p.kernel_width - 1) * p.dilation_width + 1;
  p.out_height = (p.in_height + p.pad_top + p.pad_bottom - eff_h) / p.stride_height + 1;
  p.out_width = (p.in_width + p.pad_left + p.pad_right - eff_w) / p.stride_width + 1;
  if (kt_range(0, 3) == 0) p.out_height++, p.out_width++; /* ceil mode: windows past the pads */
  p.count_include_pad = kt_range(0, 2) == 1;
  const size_t hw = p.in_height * p.in_width, ohw = p.out_height * p.out_width;
  float *nchw = malloc(channels * hw * sizeof(float)), *nhwc = malloc(channels * hw * sizeof(float));
  kt_fill(nchw, channels * hw);
  if (with_nan) nchw[kt_range(0, channels * hw)] = NAN;
  for (size_t c = 0; c < channels; c++)
    for (size_t i = 0; i < hw; i++) nhwc[i * channels + c] = nchw[c * hw + i];
  float *ref = malloc(channels * ohw * sizeof(float)), *y = kt_canary_alloc(channels * ohw + 4);
  for (int kind = 0; kind < 2; kind++) {
    if (kind == 0) ofx_f32_maxpool2d_nchw__scalar(&p, channels, nchw, ref), v->max(&p, channels, nhwc, y);
    else ofx_f32_avgpool2d_nchw__scalar(&p, channels, nchw, ref), v->avg(&p, channels, nhwc, y);
    int ok = 1;
    for (size_t c = 0; c < channels; c++)
      for (size_t i = 0; i < ohw; i++) ok = ok && same(y[i * channels + c], ref[c * ohw + i]);
    for (size_t i = channels * ohw; i < channels * ohw + 4; i++) ok = ok && y[i] == KT_CANARY;
    KT_CHECK_CASE(ok, "%s %s c=%zu in=%zux%zu k=%zux%zu s=%zux%zu d=%zux%zu pads=%zu,%zu,%zu,%zu out=%zux%zu incl=%d nan=%d",
                  v->name, kind ? "avg" : "max", channels, p.in_height, p.in_width, p.kernel_height, p.kernel_width,
                  p.stride_height, p.stride_width, p.dilation_height, p.dilation_width, p.pad_top, p.pad_left,
                  p.pad_bottom, p.pad_right, p.out_height, p.out_width, p.count_include_pad, with_nan);
  }
  /* global average over the whole image */
  ofx_f32_global_avgpool_nchw__scalar(channels, hw, nchw, ref);
  v->global(hw, channels, nhwc, y);
  int ok = 1;
  for (size_t c = 0; c < channels; c++) ok = ok && same(y[c], ref[c]);
  KT_CHECK_CASE(ok, "%s global avg c=%zu pixels=%zu", v->name, channels, hw);
  free(nchw), free(nhwc), free(ref), free(y);
}

int main(void) {
  kt_seed(7);
  CHECK(sizeof variants / sizeof *variants == (OFX_ARCH_WASMSIMD ? 2u : 1u));
  const size_t channels[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 33, 37, 64};
  for (size_t vi = 0; vi < sizeof variants / sizeof *variants; vi++)
    for (size_t ci = 0; ci < sizeof channels / sizeof *channels; ci++)
      for (int r = 0; r < 12; r++) run_case(&variants[vi], channels[ci], r % 4 == 3);
  return ofx_test_finish("test-kernels-f32-pool");
}
