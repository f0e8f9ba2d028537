/* ofx_f32_gemm: tiles an M x N GEMM over the configured micro-kernels and the thread pool. */
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/kernel-config.h"
#include "threadpool/threadpool.h"

typedef struct gemm_job {
  const ofx_kernel_config *cfg;
  size_t k;
  const float *a;
  size_t a_stride;
  const float *w;
  float *c;
  size_t c_stride;
  ofx_f32_minmax_params params;
  ofx_f32_vunary_fn post;
} gemm_job;

static void gemm_tile(void *ctx, size_t i, size_t j, size_t mi, size_t nj) {
  const gemm_job *g = ctx;
  const size_t mr = g->cfg->gemm_mr, nr = g->cfg->gemm_nr;
  const float *w = g->w + j * (g->k + 1); /* j is a multiple of nr: whole packed blocks */
  for (size_t i0 = i; i0 < i + mi; i0 += mr) {
    const size_t rows = ofx_min_sz(mr, i + mi - i0);
    /* a single leftover row is cheaper on the 1-row kernel than as 4 aliased rows */
    ofx_f32_gemm_minmax_ukernel_fn uk = rows == 1 ? g->cfg->f32_gemm_1x8 : g->cfg->f32_gemm_main;
    uk(rows, nj, g->k, g->a + i0 * g->a_stride, g->a_stride, w, g->c + i0 * g->c_stride + j,
       g->c_stride, nr, &g->params);
    if (g->post) ofx_f32_vunary_block(g->post, rows, nj, g->c + i0 * g->c_stride + j, g->c_stride);
  }
}

void ofx_f32_gemm(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                  const float *packed_w, float *c, size_t c_stride, float output_min,
                  float output_max, ofx_threadpool *pool) {
  ofx_f32_gemm_post(m, n, k, a, a_stride, packed_w, c, c_stride, output_min, output_max, NULL, pool);
}

void ofx_f32_gemm_post(size_t m, size_t n, size_t k, const float *a, size_t a_stride,
                       const float *packed_w, float *c, size_t c_stride, float output_min,
                       float output_max, ofx_f32_vunary_fn post, ofx_threadpool *pool) {
  if (m == 0 || n == 0) return;
  const ofx_kernel_config *cfg = ofx_kernels();
  gemm_job g = {cfg, k, a, a_stride, packed_w, c, c_stride, {output_min, output_max}, post};
  const size_t mr = cfg->gemm_mr, nr = cfg->gemm_nr;
  /* a small GEMM (SE blocks' 1x1 convs, tiny Linear layers) finishes before a worker wakes */
  if ((double)m * (double)n * (double)k < OFX_GEMM_MIN_PARALLEL_MACS) pool = NULL;
  const size_t threads = ofx_threadpool_threads_count(pool);
  size_t tile_m, tile_n;
  ofx_gemm_tiles(m, n, mr, nr, ofx_gemm_l2_columns(k, nr), threads, &tile_m, &tile_n);
  ofx_threadpool_parallelize_2d_tile(pool, gemm_tile, &g, m, n, tile_m, tile_n);
}
