/* ofx_f32_dwconv: splits one image's output pixels over the configured dwconv kernel. */
#include "kernels/f32-dwconv/f32-dwconv.h"
#include "kernels/kernel-config.h"
#include "threadpool/threadpool.h"

typedef struct dwconv_job {
  ofx_f32_dwconv_minmax_ukernel_fn uk;
  size_t taps, channels;
  const float **ind;
  const float *w;
  float *out;
  size_t out_stride, input_offset;
  const float *zero;
  ofx_f32_minmax_params params;
  ofx_f32_vunary_fn post;
} dwconv_job;

static void dwconv_tile(void *ctx, size_t i, size_t j, size_t ni, size_t nj) {
  const dwconv_job *g = ctx;
  g->uk(g->taps, g->channels, ni, g->ind + i * g->taps, g->w, g->out + i * g->out_stride, g->taps,
        g->out_stride, g->input_offset, g->zero, &g->params);
  if (g->post) ofx_f32_vunary_block(g->post, ni, g->channels, g->out + i * g->out_stride, g->out_stride);
}

void ofx_f32_dwconv(size_t taps, size_t channels, size_t out_pixels, const float **indirection,
                    const float *packed_w, float *output, size_t output_pixel_stride,
                    size_t input_offset, const float *zero, float output_min, float output_max,
                    ofx_f32_vunary_fn post, ofx_threadpool *pool) {
  const ofx_kernel_config *cfg = ofx_kernels();
  dwconv_job g = {taps == 9 ? cfg->f32_dwconv_9 : taps == 25 ? cfg->f32_dwconv_25 : cfg->f32_dwconv_any, taps, channels,
                  indirection, packed_w, output, output_pixel_stride, input_offset, zero,
                  {output_min, output_max}, post};
  if ((double)out_pixels * (double)channels * (double)taps < OFX_GEMM_MIN_PARALLEL_MACS) pool = NULL;
  const size_t threads = ofx_threadpool_threads_count(pool);
  /* ~16 tiles per thread: balances threads slowed by others sharing their core */
  const size_t tile = threads > 1 ? ofx_divide_round_up(out_pixels, threads * 16) : out_pixels;
  ofx_threadpool_parallelize_2d_tile(pool, dwconv_tile, &g, out_pixels, 1, tile ? tile : 1, 1);
}
