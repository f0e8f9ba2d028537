/* Kernel benchmark (WASM under node, or native with the scalar kernels): measures the SIMD128
 * mul+add peak of this engine/CPU, then GFLOP/s of the GEMM/IGEMM/DWCONV kernels on
 * ResNet-18 / MobileNetV2 layer shapes, printed as % of that peak. No thresholds.
 *   node bench-kernels.js [threads] [layers|q8]   ("layers": only the configured kernels' layers;
 *   "q8": only the 8-bit GEMM micro-kernels)
 * bench-kernels-relaxed.js is the same on the relaxed build's kernels (node
 * --experimental-wasm-relaxed-simd): there the 8-bit GEMM section also times the c4
 * relaxed-dot kernels against the c2 dot16x2 one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#endif
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "threadpool/threadpool.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Best-of-5 GFLOP/s of fn(ctx), each timing repeating it for >= 0.1 s (best-of: the machine
 * may be shared, the least disturbed run is the kernel's). */
typedef void (*bench_fn)(void *ctx);
static double gflops(bench_fn fn, void *ctx, double flops_per_call) {
  double best = 0;
  fn(ctx); /* warm caches and the JIT */
  for (int rep = 0; rep < 5; rep++) {
    size_t calls = 0;
    const double t0 = now_s();
    double t;
    do {
      fn(ctx);
      calls++;
    } while ((t = now_s() - t0) < 0.1);
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

/* 8-bit GEMM from uint8 activations: widening (x8_to_s16) included, as an op would run it */
typedef struct q8_gemm_ctx {
  size_t m, n, k;
  uint8_t *a;
  int16_t *a16;
  void *w;
  float *c;
  ofx_threadpool *pool;
} q8_gemm_ctx;
static void q8_gemm_loop(void *p) {
  q8_gemm_ctx *g = p;
  ofx_kernels()->x8_to_s16(g->m * g->k, g->a, false, 128, g->a16);
  ofx_q8_gemm(g->m, g->n, g->k, g->a16, g->k, g->w, g->c, g->n, -INFINITY, INFINITY, g->pool);
}

/* 8-bit GEMM micro-kernels alone over all M rows of a layer, one thread, activations staged
 * beforehand: the c2 kernels (int16 rows) and the c4 ones (int8 rows) on the same problem. */
typedef struct q8_uk_ctx {
  ofx_q8_gemm_minmax_ukernel_fn c2;
  ofx_q8c4_gemm_minmax_ukernel_fn c4;
  size_t mr, nr, m, n, k, a_stride;
  const void *a, *w;
  float *c;
} q8_uk_ctx;
static void q8_uk_loop(void *p) {
  const q8_uk_ctx *u = p;
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  for (size_t i = 0; i < u->m; i += u->mr) {
    const size_t rows = u->m - i < u->mr ? u->m - i : u->mr;
    if (u->c2)
      u->c2(rows, u->n, u->k, (const int16_t *)u->a + i * u->a_stride, u->a_stride, u->w, u->c + i * u->n, u->n, u->nr, &params);
    else
      u->c4(rows, u->n, u->k, (const int8_t *)u->a + i * u->a_stride, u->a_stride, 0, u->w, u->c + i * u->n, u->n, u->nr, &params);
  }
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
                g->zero, -INFINITY, INFINITY, NULL, g->pool);
}

typedef struct dw_ctx {
  size_t taps, pixels, channels;
  const float **ind;
  float *w, *y, *zero;
  ofx_threadpool *pool;
} dw_ctx;
static void dw_loop(void *p) {
  dw_ctx *d = p;
  ofx_f32_dwconv(d->taps, d->channels, d->pixels, d->ind, d->w, d->y, d->channels, 0, d->zero,
                 -INFINITY, INFINITY, NULL, d->pool);
}

static float *rnd(size_t n) {
  float *p = malloc(n * sizeof(float));
  for (size_t i = 0; i < n; i++) p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
  return p;
}

/* one registered IGEMM kernel over a whole layer (the driver's single-thread loop) */
typedef struct igemm_uk_ctx {
  ofx_f32_igemm_minmax_ukernel_fn fn;
  size_t mr, m, n, kc, ks;
  const float **ind;
  float *w, *c, *zero;
} igemm_uk_ctx;
static void igemm_uk_loop(void *p) {
  igemm_uk_ctx *g = p;
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  for (size_t i = 0; i < g->m; i += g->mr)
    g->fn(ofx_min_sz(g->mr, g->m - i), g->n, g->kc, g->ks, g->ind + i * g->ks, g->w, g->c + i * g->n, g->n, 8, 0,
          g->zero, &params);
}

/* one registered GEMM kernel over a whole layer */
typedef struct gemm_uk_ctx {
  ofx_f32_gemm_minmax_ukernel_fn fn;
  size_t mr, m, n, k;
  float *a, *w, *c;
} gemm_uk_ctx;
static void gemm_uk_loop(void *p) {
  gemm_uk_ctx *g = p;
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  for (size_t i = 0; i < g->m; i += g->mr)
    g->fn(ofx_min_sz(g->mr, g->m - i), g->n, g->k, g->a + i * g->k, g->k, g->w, g->c + i * g->n, g->n, 8, &params);
}

/* one registered depthwise kernel over a whole layer, one thread */
typedef struct dw_uk_ctx {
  ofx_f32_dwconv_minmax_ukernel_fn fn;
  size_t taps, pixels, channels;
  const float **ind;
  float *w, *y, *zero;
} dw_uk_ctx;
static void dw_uk_loop(void *p) {
  dw_uk_ctx *d = p;
  const ofx_f32_minmax_params params = {-INFINITY, INFINITY};
  d->fn(d->taps, d->channels, d->pixels, d->ind, d->w, d->y, d->taps, d->channels, 0, d->zero, &params);
}

static double peak = 0;
static double measure_peak(void);

/* Side-by-side comparison of kernel variants on a shared, noisy machine: every entry (and the
 * peak loop) is timed once per round, round-robin, for several rounds; each keeps its best.
 * Load bursts then hit all entries alike instead of whichever ran at that moment. */
#define CONTEST_MAX 32
static struct {
  char label[160];
  bench_fn fn;
  void *ctx;
  double flops, best;
} contest[CONTEST_MAX];
static size_t contest_n;
static double once(bench_fn fn, void *ctx, double flops_per_call) {
  size_t calls = 0;
  const double t0 = now_s();
  double t;
  do {
    fn(ctx);
    calls++;
  } while ((t = now_s() - t0) < 0.1);
  return flops_per_call * (double)calls / t * 1e-9;
}
static void contest_add(const char *label, bench_fn fn, const void *ctx, size_t ctx_size, double flops) {
  if (contest_n == CONTEST_MAX) return;
  snprintf(contest[contest_n].label, sizeof contest[contest_n].label, "%s", label);
  contest[contest_n].fn = fn;
  contest[contest_n].ctx = malloc(ctx_size);
  memcpy(contest[contest_n].ctx, ctx, ctx_size);
  contest[contest_n].flops = flops;
  contest[contest_n].best = 0;
  fn(contest[contest_n].ctx); /* warm up */
  contest_n++;
}
static void contest_run(int rounds) {
  double best_peak = 0;
  for (int r = 0; r < rounds; r++) {
#if defined(__wasm_simd128__)
    const double p = measure_peak();
    if (p > best_peak) best_peak = p;
#endif
    for (size_t i = 0; i < contest_n; i++) {
      const double g = once(contest[i].fn, contest[i].ctx, contest[i].flops);
      if (g > contest[i].best) contest[i].best = g;
    }
  }
  for (size_t i = 0; i < contest_n; i++) {
    if (best_peak > 0)
      printf("%-62s %6.2f GFLOP/s  %5.1f%% of peak (%.1f)\n", contest[i].label, contest[i].best,
             100.0 * contest[i].best / best_peak, best_peak);
    else
      printf("%-62s %6.2f GFLOP/s\n", contest[i].label, contest[i].best);
    free(contest[i].ctx);
  }
  contest_n = 0;
}
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

static int bench_main(int argc, char **argv) {
  printf("kernels: %s\n", ofx_kernels()->arch);
  peak = measure_peak();
  if (peak > 0)
    printf("%-62s %6.2f GFLOP/s  (f32x4 mul+add, 12 independent chains)\n", "SIMD128 peak", peak);
  /* the micro-kernels alone on L1/L2-resident panels: large K */
  const int q8_only = argc > 2 && strcmp(argv[2], "q8") == 0; /* only the 8-bit micro-kernels */
  const int all = (argc <= 2 || strcmp(argv[2], "layers") != 0) && !q8_only;
  /* in WASM builds only the wasmsimd kernels (the scalar ones are their references) */
#define OFX_WANTED(arch) (all && (!OFX_ARCH_WASMSIMD || strcmp(#arch, "scalar") != 0))
#define OFX_GEMM_UKERNEL(arch, uk, mr, nr) \
  if (OFX_WANTED(arch)) bench_ukernel(#uk, uk, mr, 16, 1024), bench_ukernel(#uk, uk, mr, 64, 256);
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL

  char label[160];
  if (all) {
    /* every registered kernel on the two dense layers, one thread */
    const size_t h = 56, w = 56, cin = 64, cout = 64;
    float *x = rnd(h * w * cin), *wt = rnd(cout * cin * 9), *zero = calloc(cin, sizeof(float));
    float *pw = malloc(ofx_x32_packw_gemm_size(cout, cin * 9, 8) * sizeof(float));
    ofx_x32_packw_conv_oihw(cout, cin, 3, 3, 8, wt, NULL, pw);
#define OFX_IGEMM_UKERNEL(arch, uk, mr_, nr)                                                          \
    if (OFX_WANTED(arch)) {                                                                                               \
      igemm_uk_ctx g = {uk, mr_, h * w, cout, cin, 9, NULL, pw, rnd(h * w * cout), zero};             \
      g.ind = malloc(ofx_indirection_size_conv2d(h, w, 3, 3, mr_) * sizeof(*g.ind));                  \
      ofx_indirection_init_conv2d_nhwc(g.ind, x, cin, zero, h, w, h, w, 3, 3, 1, 1, 1, 1, 1, 1, mr_); \
      snprintf(label, sizeof label, "%s 3x3 64->64 56x56", #uk);                                      \
      contest_add(label, igemm_uk_loop, &g, sizeof g, 2.0 * h * w * cout * cin * 9);                  \
    }
#include "kernels/f32-igemm/f32-igemm.inc"
#undef OFX_IGEMM_UKERNEL
    float *a = rnd(3136 * 256), *w2 = rnd(64 * 256), *p2 = malloc(ofx_x32_packw_gemm_size(64, 256, 8) * sizeof(float));
    ofx_x32_packw_gemm_goi(64, 256, 8, w2, NULL, p2);
#define OFX_GEMM_UKERNEL(arch, uk, mr_, nr)                                            \
    if (OFX_WANTED(arch)) {                                                                                \
      gemm_uk_ctx g = {uk, mr_, 3136, 64, 256, a, p2, rnd(3136 * 64)};               \
      snprintf(label, sizeof label, "%s 1x1 256->64 56x56", #uk);                    \
      contest_add(label, gemm_uk_loop, &g, sizeof g, 2.0 * 3136 * 64 * 256);         \
    }
#include "kernels/f32-gemm/f32-gemm.inc"
#undef OFX_GEMM_UKERNEL
    for (int l = 0; l < 3; l++) {
      const size_t ks[] = {3, 5, 7}, cs[] = {144, 144, 96};
      const size_t k = ks[l], c = cs[l], taps = k * k;
      float *xd = rnd(h * w * c), *wd = rnd(c * taps), *zd = calloc(c, sizeof(float));
      const float **ind = malloc(ofx_indirection_size_conv2d(h, w, k, k, 1) * sizeof(*ind));
      ofx_indirection_init_conv2d_nhwc(ind, xd, c, zd, h, w, h, w, k, k, 1, 1, 1, 1, k / 2, k / 2, 1);
#define OFX_DWCONV_UKERNEL(arch, uk, taps_, cr)                                                  \
      if (OFX_WANTED(arch) && (taps_ == 0 || taps_ == taps)) {                                   \
        dw_uk_ctx d = {uk, taps, h * w, c, ind, malloc(ofx_x32_packw_dwconv_size(c, taps, cr) * sizeof(float)), \
                       rnd(h * w * c), zd};                                                      \
        ofx_x32_packw_dwconv_chw(c, taps, cr, wd, NULL, d.w);                                    \
        snprintf(label, sizeof label, "%s %zux%zu x%zu 56x56", #uk, k, k, c);                   \
        contest_add(label, dw_uk_loop, &d, sizeof d, 2.0 * h * w * c * taps);                    \
      }
#include "kernels/f32-dwconv/f32-dwconv.inc"
#undef OFX_DWCONV_UKERNEL
    }
    printf("registered kernels side by side on whole layers (best of 8 round-robin rounds):\n");
    contest_run(8); /* the layer buffers stay allocated until exit */
  }

  if (all || q8_only) {
    /* ResNet-50's 3x3 64->64 at 56x56 and 3x3 256->256 at 14x14 as GEMMs (im2col rows) */
    const size_t ms[] = {3136, 196}, ns[] = {64, 256}, ks[] = {576, 2304};
    for (int l = 0; l < 2; l++) {
      const size_t m = ms[l], n = ns[l], k = ks[l];
      uint8_t *a = malloc(m * k), *wt = malloc(n * k);
      for (size_t i = 0; i < m * k; i++) a[i] = (uint8_t)(i * 37 + i / 7);
      for (size_t i = 0; i < n * k; i++) wt[i] = (uint8_t)(i * 91 + i / 5);
      float *scale = rnd(n);
      const int32_t zp = 128;
      const size_t k2 = ofx_round_up(k, OFX_Q8_GEMM_KR), k4 = ofx_round_up(k, OFX_Q8C4_GEMM_KR);
      int16_t *a16 = calloc(m * k2, sizeof(int16_t));
      int8_t *a8 = calloc(m * k4, 1);
      for (size_t i = 0; i < m; i++) {
        ofx_x8_to_s16__scalar(k, a + i * k, false, zp, a16 + i * k2);
        ofx_x8_to_s8__scalar(k, a + i * k, false, a8 + i * k4);
      }
#define OFX_Q8_GEMM_UKERNEL(arch, uk, mr_, nr_)                                                          \
      if ((!OFX_ARCH_WASMSIMD || strcmp(#arch, "scalar") != 0) && mr_ > 1) {                                                                 \
        q8_uk_ctx u = {uk, NULL, mr_, nr_, m, n, k, k2, a16, malloc(ofx_q8_packw_gemm_size(n, k, nr_)), rnd(m * n)}; \
        ofx_q8_packw_gemm(n, k, nr_, wt, k, 1, false, &zp, false, scale, NULL, (void *)u.w);            \
        snprintf(label, sizeof label, "%s M=%zu N=%zu K=%zu", #uk, m, n, k);                           \
        contest_add(label, q8_uk_loop, &u, sizeof u, 2.0 * m * n * k);                                 \
      }
#include "kernels/q8-gemm/q8-gemm.inc"
#undef OFX_Q8_GEMM_UKERNEL
#define OFX_Q8C4_GEMM_UKERNEL(arch, uk, mr_, nr_)                                                        \
      if (!OFX_ARCH_WASMSIMD || strcmp(#arch, "scalar") != 0) {                                                                            \
        q8_uk_ctx u = {NULL, uk, mr_, nr_, m, n, k, k4, a8, malloc(ofx_q8c4_packw_gemm_size(n, k, nr_)), rnd(m * n)}; \
        ofx_q8c4_packw_gemm(n, k, nr_, wt, k, 1, false, &zp, false, scale, NULL, (void *)u.w);          \
        snprintf(label, sizeof label, "%s M=%zu N=%zu K=%zu", #uk, m, n, k);                           \
        contest_add(label, q8_uk_loop, &u, sizeof u, 2.0 * m * n * k);                                 \
      }
#include "kernels/q8-gemm/q8c4-gemm.inc"
#undef OFX_Q8C4_GEMM_UKERNEL
    }
    printf("8-bit GEMM micro-kernels over whole layers, one thread (best of 8 round-robin rounds; GOP/s):\n");
    contest_run(8);
    if (q8_only) return 0;
  }

  const size_t threads = argc > 1 ? (size_t)atoi(argv[1]) : 1;
  ofx_threadpool *pool = threads > 1 ? ofx_threadpool_create(threads) : NULL;
  printf("layer benchmarks on %zu thread(s)\n", ofx_threadpool_threads_count(pool));
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
  { /* the same layer 8-bit: uint8 activations widened, then the q8 GEMM (GOP/s counted as FLOP) */
    const size_t m = 3136, n = 64, k = 256, nr = ofx_kernels()->q8_gemm_nr;
    q8_gemm_ctx g = {m, n, k, malloc(m * k), malloc(m * k * sizeof(int16_t)), NULL, rnd(m * n), pool};
    uint8_t *wt = malloc(n * k);
    for (size_t i = 0; i < m * k; i++) g.a[i] = (uint8_t)(i * 37);
    for (size_t i = 0; i < n * k; i++) wt[i] = (uint8_t)(i * 91);
    float *scale = rnd(n);
    const int32_t zp = 128;
    g.w = malloc(ofx_q8_packw_gemm_size(n, k, nr));
    ofx_q8_packw_gemm(n, k, nr, wt, k, 1, false, &zp, false, scale, NULL, g.w);
    report("q8 gemm conv 1x1 256->64 56x56, uint8 (widening included)", gflops(q8_gemm_loop, &g, 2.0 * m * n * k));
    free(wt), free(scale), free(g.a), free(g.a16), free(g.w), free(g.c);
  }
  { /* ViT-B/16 Linear layers (MatMul with a constant B): 197 tokens, 768 -> 3072 and 3072 -> 768;
     * packed weights of 9 MiB, far past L2: the driver's N panels keep each in L2 for all rows */
    const size_t ns[] = {3072, 768}, ks[] = {768, 3072};
    for (int l = 0; l < 2; l++) {
      gemm_ctx g = {197, ns[l], ks[l], rnd(197 * ks[l]), NULL, rnd(197 * ns[l]), pool};
      float *wt = rnd(ns[l] * ks[l]);
      g.w = malloc(ofx_x32_packw_gemm_size(ns[l], ks[l], 8) * sizeof(float));
      ofx_x32_packw_gemm_goi(ns[l], ks[l], 8, wt, NULL, g.w);
      snprintf(label, sizeof label, "gemm vit linear (M=197 N=%zu K=%zu)", ns[l], ks[l]);
      report(label, gflops(gemm_loop, &g, 2.0 * 197 * (double)ns[l] * (double)ks[l]));
      free(wt), free(g.a), free(g.w), free(g.c);
    }
  }
  { /* MobileNetV2 depthwise 3x3 x144 at 56x56, stride 1; ConvNeXt-T 7x7 x96 at 56x56 */
    const size_t ks[] = {3, 7}, cs[] = {144, 96};
    for (int l = 0; l < 2; l++) {
      const size_t h = 56, w = 56, c = cs[l], k = ks[l], taps = k * k;
      dw_ctx d = {taps, h * w, c, NULL, NULL, rnd(h * w * c), calloc(c, sizeof(float)), pool};
      float *x = rnd(h * w * c), *wt = rnd(c * taps);
      d.w = malloc(ofx_x32_packw_dwconv_size(c, taps, ofx_kernels()->dwconv_cr) * sizeof(float));
      ofx_x32_packw_dwconv_chw(c, taps, ofx_kernels()->dwconv_cr, wt, NULL, d.w);
      d.ind = malloc(ofx_indirection_size_conv2d(h, w, k, k, 1) * sizeof(*d.ind));
      ofx_indirection_init_conv2d_nhwc(d.ind, x, c, d.zero, h, w, h, w, k, k, 1, 1, 1, 1, k / 2, k / 2, 1);
      snprintf(label, sizeof label, "dwconv %zux%zu x%zu 56x56", k, k, c);
      report(label, gflops(dw_loop, &d, 2.0 * h * w * c * taps));
      free(x), free(wt), free(d.w), free(d.ind), free(d.y), free(d.zero);
    }
  }
  ofx_threadpool_destroy(pool);
  return 0;
}

/* The arguments come from node's process.argv: clang 16 (the relaxed build) names a
 * main(argc, argv) __main_argc_argv, which emscripten 3.1.6's runtime never calls, so main takes
 * none. */
int main(void) {
  static char args[2][32];
  char *argv[3] = {"bench-kernels", args[0], args[1]};
#if defined(__EMSCRIPTEN__)
  const int n = EM_ASM_INT({
    const a = process.argv.slice(2, 4);
    a.forEach((s, i) => stringToUTF8(s, $0 + 32 * i, 32));
    return a.length;
  }, args);
#else
  const int n = 0;
#endif
  return bench_main(1 + n, argv);
}
