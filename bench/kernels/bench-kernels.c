/* Kernel benchmark (WASM under node, or native with the scalar kernels): measures the SIMD128
 * mul+add peak of this engine/CPU, then GFLOP/s of the GEMM/IGEMM/DWCONV kernels on
 * ResNet-18 / MobileNetV2 layer shapes, printed as % of that peak. No thresholds. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "runtime/threadpool.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best-of-3 GFLOP/s of fn(ctx), each timing repeating it for >= 0.2 s. */
typedef void (*bench_fn)(void *ctx);
static double gflops(bench_fn fn, void *ctx, double flops_per_call) {
  double best = 0;
  fn(ctx); /* warm caches and the JIT */
  for (int rep = 0; rep < 3; rep++) {
    size_t calls = 0;
    const double t0 = now_s();
    double t;
    do {
      fn(ctx);
      calls++;
    } while ((t = now_s() - t0) < 0.2);
    const double g = flops_per_call * (double)calls / t * 1e-9;
    if (g > best) best = g;
  }
  return best;
}

static volatile float sink;

#if defined(__wasm_simd128__)
/* 12 independent acc = acc*m + a chains: enough to cover mul and add latency on current
 * x86/ARM cores, so the loop is bound by mul/add throughput, the ceiling a mul+add GEMM
 * (wasm SIMD has no FMA) can reach. 8 flops per chain step. */
#define PEAK_ITERS 1000000
static void peak_loop(void *ctx) {
  const volatile float *in = ctx;
  const v128_t m = wasm_f32x4_splat(in[0]), a = wasm_f32x4_splat(in[1]);
  v128_t c0 = wasm_f32x4_splat(in[2]), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  v128_t c6 = c0, c7 = c0, c8 = c0, c9 = c0, c10 = c0, c11 = c0;
  for (int i = 0; i < PEAK_ITERS; i++) {
#define CH(c) c = wasm_f32x4_add(wasm_f32x4_mul(c, m), a)
    CH(c0); CH(c1); CH(c2); CH(c3); CH(c4); CH(c5); CH(c6); CH(c7); CH(c8); CH(c9); CH(c10); CH(c11);
#undef CH
  }
  v128_t s = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(c0, c1), wasm_f32x4_add(c2, c3)),
                            wasm_f32x4_add(wasm_f32x4_add(c4, c5), wasm_f32x4_add(c6, c7)));
  s = wasm_f32x4_add(s, wasm_f32x4_add(wasm_f32x4_add(c8, c9), wasm_f32x4_add(c10, c11)));
  sink = wasm_f32x4_extract_lane(s, 0);
}
#endif

/* ---- a 4-row micro-kernel call over a cache-resident panel: the kernel's own ceiling ---- */
typedef struct uk_ctx {
  ofx_f32_gemm_minmax_ukernel_fn fn;
  size_t mr, nc, kc, reps;
  float *a, *w, *c;
} uk_ctx;
static void uk_loop(void *p) {
  uk_ctx *u = p;
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  for (size_t r = 0; r < u->reps; r++)
    u->fn(u->mr, u->nc, u->kc, u->a, u->kc, u->w, u->c, u->nc, 8, &params);
}

typedef struct gemm_ctx {
  size_t m, n, k;
  float *a, *w, *c;
  ofx_threadpool *pool;
} gemm_ctx;
static void gemm_loop(void *p) {
  gemm_ctx *g = p;
  ofx_f32_gemm(g->m, g->n, g->k, g->a, g->k, g->w, g->c, g->n, -INFINITY, INFINITY, g->pool);
}

typedef struct igemm_ctx {
  size_t m, n, kc, ks;
  const float **ind;
  float *w, *c, *zero;
  ofx_threadpool *pool;
} igemm_ctx;
static void igemm_loop(void *p) {
  igemm_ctx *g = p;
  ofx_f32_igemm(ofx_kernels()->igemm_mr, g->m, g->n, g->kc, g->ks, g->ind, g->w, g->c, g->n, 0,
                g->zero, -INFINITY, INFINITY, g->pool);
}

typedef struct dw_ctx {
  size_t pixels, channels;
  const float **ind;
  float *w, *y, *zero;
  ofx_threadpool *pool;
} dw_ctx;
static void dw_loop(void *p) {
  dw_ctx *d = p;
  ofx_f32_dwconv(9, d->channels, d->pixels, d->ind, d->w, d->y, d->channels, 0, d->zero,
                 -INFINITY, INFINITY, d->pool);
}

static float *rnd(size_t n) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return p;
}

static double peak = 0;
static double measure_peak(void);
/* The machine may be shared: peak is re-measured right after each kernel, so both numbers of
 * a ratio see the same load. */
static void report(const char *what, double g) {
  const double p = measure_peak();
  if (p > 0) printf("%-62s %6.2f GFLOP/s  %5.1f%% of peak (%.1f)\n", what, g, 100.0 * g / p, p);
  else printf("%-62s %6.2f GFLOP/s\n", what, g);
}

static void bench_ukernel(const char *name, ofx_f32_gemm_minmax_ukernel_fn fn, size_t mr,
                          size_t nc, size_t kc) {
  uk_ctx u = {fn, mr, nc, kc, 0, rnd(mr * kc), rnd(ofx_x32_packw_gemm_size(nc, kc, 8)), rnd(mr * nc)};
  u.reps = 1 + (size_t)(4e6 / (double)(mr * nc * kc));
  char label[160];
  snprintf(label, sizeof label, "%s mr=%zu nc=%zu kc=%zu", name, mr, nc, kc);
  report(label, gflops(uk_loop, &u, 2.0 * (double)(mr * nc * kc) * (double)u.reps));
  free(u.a), free(u.w), free(u.c);
}

static double measure_peak(void) {
#if defined(__wasm_simd128__)
  volatile float in[3] = {0.9999999f, 1e-7f, 0.5f};
  return gflops(peak_loop, (void *)in, 8.0 * 12 * PEAK_ITERS);
#else
  return 0;
#endif
}

int main(int argc, char **argv) {
  printf("kernels: %s\n", ofx_kernels()->arch);
  peak = measure_peak();
  if (peak > 0)
    printf("%-62s %6.2f GFLOP/s  (f32x4 mul+add, 12 independent chains)\n", "SIMD128 peak", peak);
  /* the micro-kernels alone on L1/L2-resident panels: large K */
#define OFX_GEMM_UKERNEL(arch, uk, mr, nr) \
  bench_ukernel(#uk, uk, mr, 16, 1024);    \
  bench_ukernel(#uk, uk, mr, 64, 256);
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL

  const size_t threads = argc > 1 ? (size_t)atoi(argv[1]) : 1;
  ofx_threadpool *pool = threads > 1 ? ofx_threadpool_create(threads) : NULL;
  printf("layer benchmarks on %zu thread(s)\n", ofx_threadpool_threads_count(pool));
  char label[160];
  { /* ResNet layer1 conv: 3x3 64->64, 56x56, pad 1 (IGEMM, K = 576) */
    const size_t h = 56, w = 56, cin = 64, cout = 64, mr = ofx_kernels()->igemm_mr;
    igemm_ctx g = {h * w, cout, cin, 9, NULL, NULL, rnd(h * w * cout), calloc(cin, sizeof(float)), pool};
    float *x = rnd(h * w * cin), *wt = rnd(cout * cin * 9);
    g.w = malloc(ofx_x32_packw_gemm_size(cout, cin * 9, 8) * sizeof(float));
    ofx_x32_packw_conv_oihw(cout, cin, 3, 3, 8, wt, NULL, g.w);
    g.ind = malloc(ofx_indirection_size_conv2d(h, w, 3, 3, mr) * sizeof(*g.ind));
    ofx_indirection_init_conv2d_nhwc(g.ind, x, cin, g.zero, h, w, h, w, 3, 3, 1, 1, 1, 1, 1, 1, mr);
    snprintf(label, sizeof label, "igemm conv 3x3 64->64 56x56 (M=3136 N=64 K=576)");
    report(label, gflops(igemm_loop, &g, 2.0 * h * w * cout * cin * 9));
    free(x), free(wt), free(g.w), free(g.ind), free(g.c), free(g.zero);
  }
  { /* ResNet-50-style 1x1 256->64 at 56x56 (plain GEMM, no indirection) */
    gemm_ctx g = {3136, 64, 256, rnd(3136 * 256), NULL, rnd(3136 * 64), pool};
    float *wt = rnd(64 * 256);
    g.w = malloc(ofx_x32_packw_gemm_size(64, 256, 8) * sizeof(float));
    ofx_x32_packw_gemm_goi(64, 256, 8, wt, NULL, g.w);
    report("gemm conv 1x1 256->64 56x56 (M=3136 N=64 K=256)", gflops(gemm_loop, &g, 2.0 * 3136 * 64 * 256));
    free(wt), free(g.a), free(g.w), free(g.c);
  }
  { /* MobileNetV2 depthwise 3x3 x144 at 56x56, stride 1 */
    const size_t h = 56, w = 56, c = 144;
    dw_ctx d = {h * w, c, NULL, NULL, rnd(h * w * c), calloc(c, sizeof(float)), pool};
    float *x = rnd(h * w * c), *wt = rnd(c * 9);
    d.w = malloc(ofx_x32_packw_dwconv_size(c, 9, ofx_kernels()->dwconv_cr) * sizeof(float));
    ofx_x32_packw_dwconv_chw(c, 9, ofx_kernels()->dwconv_cr, wt, NULL, d.w);
    d.ind = malloc(ofx_indirection_size_conv2d(h, w, 3, 3, 1) * sizeof(*d.ind));
    ofx_indirection_init_conv2d_nhwc(d.ind, x, c, d.zero, h, w, h, w, 3, 3, 1, 1, 1, 1, 1, 1, 1);
    report("dwconv 3x3 x144 56x56", gflops(dw_loop, &d, 2.0 * h * w * c * 9));
    free(x), free(wt), free(d.w), free(d.ind), free(d.y), free(d.zero);
  }
  ofx_threadpool_destroy(pool);
  return 0;
}
