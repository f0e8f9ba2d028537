/* ofx_q8_gemm: tiles an M x N 8-bit GEMM over the configured micro-kernels and the thread pool,
 * as ofx_f32_gemm does (same panel and tile choices: only the packed sizes differ). */
#include "kernels/kernel-config.h"
#include "kernels/q8-gemm/q8-gemm.h"
#include "threadpool/threadpool.h"

typedef struct q8_gemm_job {
  const ofx_kernel_config *cfg;
  size_t k, block_bytes;
  const int16_t *a;
  size_t a_stride;
  const char *w;
  float *c;
  size_t c_stride;
  ofx_f32_minmax_params params;
} q8_gemm_job;

static void q8_gemm_tile(void *ctx, size_t i, size_t j, size_t mi, size_t nj) {
  const q8_gemm_job *g = ctx;
  const size_t mr = g->cfg->q8_gemm_mr, nr = g->cfg->q8_gemm_nr;
  const char *w = g->w + j / nr * g->block_bytes; /* j is a multiple of nr: whole packed blocks */
  for (size_t i0 = i; i0 < i + mi; i0 += mr) {
    const size_t rows = ofx_min_sz(mr, i + mi - i0);
    ofx_q8_gemm_minmax_ukernel_fn uk = rows == 1 ? g->cfg->q8_gemm_1x8 : g->cfg->q8_gemm_main;
    uk(rows, nj, g->k, g->a + i0 * g->a_stride, g->a_stride, w, g->c + i0 * g->c_stride + j, g->c_stride, nr, &g->params);
  }
}

void ofx_q8_gemm(size_t m, size_t n, size_t k, const int16_t *a, size_t a_stride, const void *packed_w, float *c,
                 size_t c_stride, float output_min, float output_max, ofx_threadpool *pool) {
  if (m == 0 || n == 0) return;
  const ofx_kernel_config *cfg = ofx_kernels();
  const size_t mr = cfg->q8_gemm_mr, nr = cfg->q8_gemm_nr;
  q8_gemm_job g = {cfg, k, ofx_q8_packw_gemm_size(nr, k, nr), a, a_stride, packed_w, c, c_stride, {output_min, output_max}};
  if ((double)m * (double)n * (double)k < OFX_GEMM_MIN_PARALLEL_MACS) pool = NULL;
  const size_t threads = ofx_threadpool_threads_count(pool);
  /* int16 weights take half a float panel's bytes: twice the columns fit the same L2 share */
  size_t tile_m, tile_n;
  ofx_gemm_tiles(m, n, mr, nr, ofx_gemm_l2_columns(k / 2, nr), threads, &tile_m, &tile_n);
  ofx_threadpool_parallelize_2d_tile(pool, q8_gemm_tile, &g, m, n, tile_m, tile_n);
}
