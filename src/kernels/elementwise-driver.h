/* Threads elementwise work: a flat range of n elements split into chunks large enough that
 * waking the pool pays off. Used by the elementwise ops (unary activations, broadcast
 * arithmetic) so they scale with threads like the conv/GEMM drivers. */
#ifndef OFX_KERNELS_ELEMENTWISE_DRIVER_H
#define OFX_KERNELS_ELEMENTWISE_DRIVER_H

#include <stddef.h>

#include "kernels/f32-vunary/f32-vunary.h"

typedef struct ofx_threadpool ofx_threadpool;

/* Smallest chunk handed to a thread: ~16K floats is 10-50 us of a vector kernel, well above
 * the cost of waking a worker. Chunks start at multiples of 16 elements (whole vectors). */
#define OFX_ELEMENTWISE_MIN_TILE 16384

/* fn(ctx, start, count) for chunks covering [0, n) exactly once; on the calling thread alone
 * when pool is NULL or n is below two chunks. */
typedef void (*ofx_elements_fn)(void *ctx, size_t start, size_t count);
void ofx_parallelize_elements(ofx_threadpool *pool, size_t n, ofx_elements_fn fn, void *ctx);

/* out[i] = fn(in[i]) for i < n (in == out is fine), threaded. */
void ofx_f32_vunary(ofx_f32_vunary_fn fn, size_t n, const float *in, float *out, ofx_threadpool *pool);
void ofx_f32_vclamp(size_t n, const float *in, float *out, float min, float max, ofx_threadpool *pool);

#endif
