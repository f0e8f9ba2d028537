/* ofx_f32_igemm: tiles one image's NHWC convolution over the igemm micro-kernels and the
 * thread pool. Tiles in M are whole indirection tiles (multiples of mr_layout). */
#include "kernels/f32-igemm/f32-igemm.h"
#include "kernels/kernel-config.h"
#include "threadpool/threadpool.h"

typedef struct igemm_job {
  ofx_f32_igemm_minmax_ukernel_fn uk;
  size_t mr, kc, ks;
  const float **ind;
  const float *w;
  float *c;
  size_t c_stride, a_offset;
  const float *zero;
  ofx_f32_minmax_params params;
  ofx_f32_vunary_fn post;
} igemm_job;

static void igemm_tile(void *ctx, size_t i, size_t j, size_t mi, size_t nj) {
  const igemm_job *g = ctx;
  const float *w = g->w + j * (g->kc * g->ks + 1);
  for (size_t i0 = i; i0 < i + mi; i0 += g->mr) {
    const size_t rows = ofx_min_sz(g->mr, i + mi - i0);
    g->uk(rows, nj, g->kc, g->ks, g->ind + i0 * g->ks, w, g->c + i0 * g->c_stride + j, g->c_stride,
          ofx_kernels()->gemm_nr, g->a_offset, g->zero, &g->params);
    if (g->post) ofx_f32_vunary_block(g->post, rows, nj, g->c + i0 * g->c_stride + j, g->c_stride);
  }
}

void ofx_f32_igemm(size_t mr_layout, size_t m, size_t n, size_t kc, size_t ks,
                   const float **indirection, const float *packed_w, float *c, size_t c_stride,
                   size_t a_offset, const float *zero, float output_min, float output_max,
                   ofx_f32_vunary_fn post, ofx_threadpool *pool) {
  if (m == 0 || n == 0) return;
  const ofx_kernel_config *cfg = ofx_kernels();
  igemm_job g = {mr_layout == 1 ? cfg->f32_igemm_1x8 : cfg->f32_igemm_main,
                 mr_layout, kc, ks, indirection, packed_w, c, c_stride, a_offset, zero,
                 {output_min, output_max}, post};
  if ((double)m * (double)n * (double)(kc * ks) < OFX_GEMM_MIN_PARALLEL_MACS) pool = NULL;
  const size_t threads = ofx_threadpool_threads_count(pool), nr = cfg->gemm_nr;
  size_t tile_m, tile_n; /* M in whole indirection tiles */
  ofx_gemm_tiles(m, n, mr_layout, nr, ofx_gemm_l2_columns(kc * ks, nr), threads, &tile_m, &tile_n);
  ofx_threadpool_parallelize_2d_tile(pool, igemm_tile, &g, m, n, tile_m, tile_n);
}
