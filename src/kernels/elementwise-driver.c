#include "kernels/elementwise-driver.h"

#include "kernels/common.h"
#include "kernels/kernel-config.h"
#include "threadpool/threadpool.h"

typedef struct elements_job {
  ofx_elements_fn fn;
  void *ctx;
} elements_job;

static void elements_tile(void *ctx, size_t i, size_t j, size_t ni, size_t nj) {
  const elements_job *g = ctx;
  (void)j, (void)nj;
  g->fn(g->ctx, i, ni);
}

void ofx_parallelize_elements(ofx_threadpool *pool, size_t n, ofx_elements_fn fn, void *ctx) {
  if (n == 0) return;
  const size_t threads = ofx_threadpool_threads_count(pool);
  if (threads == 1 || n < 2 * OFX_ELEMENTWISE_MIN_TILE) {
    fn(ctx, 0, n);
    return;
  }
  /* ~4 chunks per thread: balances a thread slowed by others sharing its core */
  size_t tile = ofx_round_up(ofx_divide_round_up(n, threads * 4), 16);
  if (tile < OFX_ELEMENTWISE_MIN_TILE) tile = OFX_ELEMENTWISE_MIN_TILE;
  elements_job g = {fn, ctx};
  ofx_threadpool_parallelize_2d_tile(pool, elements_tile, &g, n, 1, tile, 1);
}

typedef struct vunary_job {
  ofx_f32_vunary_fn fn;
  const float *in;
  float *out;
  float min, max;
} vunary_job;

static void vunary_chunk(void *ctx, size_t start, size_t count) {
  const vunary_job *g = ctx;
  g->fn(count, g->in + start, g->out + start);
}

void ofx_f32_vunary(ofx_f32_vunary_fn fn, size_t n, const float *in, float *out, ofx_threadpool *pool) {
  vunary_job g = {fn, in, out, 0, 0};
  ofx_parallelize_elements(pool, n, vunary_chunk, &g);
}

static void vclamp_chunk(void *ctx, size_t start, size_t count) {
  const vunary_job *g = ctx;
  ofx_kernels()->f32_vclamp(count, g->in + start, g->out + start, g->min, g->max);
}

void ofx_f32_vclamp(size_t n, const float *in, float *out, float min, float max, ofx_threadpool *pool) {
  vunary_job g = {NULL, in, out, min, max};
  ofx_parallelize_elements(pool, n, vclamp_chunk, &g);
}
