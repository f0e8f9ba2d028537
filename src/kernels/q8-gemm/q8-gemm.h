/* 8-bit quantized GEMM with a float32 output, XNNPACK's qs8/qu8 design for WebAssembly SIMD128.
 *
 * Activations and weights are 8-bit (uint8 or int8) with zero points. Both are widened to int16
 * with their zero point subtracted — activations row by row (ofx_x8_to_s16), weights once at
 * packing (ofx_q8_packw_gemm) — so that pairs of K steps are multiplied and summed by
 * i32x4.dot_i16x8_s: 8 multiply-adds per instruction, twice float32's 4 per mul+add pair.
 * Products of two values in [-255, 255], summed in int32, cannot overflow below K = 33000.
 * The epilogue dequantizes each column: c = clamp(float(acc) * scale[j] + bias[j]), the
 * ConvInteger -> Cast -> Mul -> Add chain of dynamically quantized models in one step. */
#ifndef OFX_KERNELS_Q8_GEMM_H
#define OFX_KERNELS_Q8_GEMM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernels/common.h"

typedef struct ofx_threadpool ofx_threadpool;

/* K steps per packed group: the pair one dot_i16x8 lane pair sums. */
#define OFX_Q8_GEMM_KR 2

/* Bytes of packed weights for n columns, k steps, nr columns per block: per block nr scales,
 * nr biases (float), then ceil(k/2) groups of nr int16 pairs. */
size_t ofx_q8_packw_gemm_size(size_t n, size_t k, size_t nr);

/* Packs 8-bit weights: element (j, kk) (column j < n, step kk < k) is at
 * w[j * n_stride + kk * k_stride], uint8 unless is_signed, with zero point zero_point[j] (or
 * zero_point[0] when per_column is false). scale and bias are per column (bias may be NULL: 0).
 * K is padded to even with zeros, columns past n with zero weights, scale 0 and bias 0. */
void ofx_q8_packw_gemm(size_t n, size_t k, size_t nr, const void *w, size_t n_stride, size_t k_stride, bool is_signed,
                       const int32_t *zero_point, bool per_column, const float *scale, const float *bias, void *packed);

/* y[i] = x[i] - zero_point as int16, x uint8 unless is_signed; n elements. */
typedef void (*ofx_x8_to_s16_fn)(size_t n, const void *x, bool is_signed, int32_t zero_point, int16_t *y);
void ofx_x8_to_s16__scalar(size_t n, const void *x, bool is_signed, int32_t zero_point, int16_t *y);
void ofx_x8_to_s16__wasmsimd_u16(size_t n, const void *x, bool is_signed, int32_t zero_point, int16_t *y);

/* Micro-kernel contract: a holds mr rows of int16 (row i at a + i * a_stride elements), each
 * with kc steps padded with zeros to even; for i < mr, j < nc:
 *   c[i*cm_stride + (j/NR)*cn_stride + j%NR] = clamp(float(sum_k a[i][k] * W[k][j]) * scale[j] + bias[j])
 * w is packed by ofx_q8_packw_gemm with nr = NR; all ceil(nc/NR) blocks are walked. */
typedef void (*ofx_q8_gemm_minmax_ukernel_fn)(size_t mr, size_t nc, size_t kc, const int16_t *a, size_t a_stride,
                                              const void *w, float *c, size_t cm_stride, size_t cn_stride,
                                              const ofx_f32_minmax_params *params);

#define OFX_Q8_GEMM_UKERNEL(arch, ukernel, mr, nr)                                                              \
  void ukernel(size_t mr_, size_t nc, size_t kc, const int16_t *a, size_t a_stride, const void *w, float *c, \
               size_t cm_stride, size_t cn_stride, const ofx_f32_minmax_params *params);
#include "kernels/q8-gemm/q8-gemm.inc"
#undef OFX_Q8_GEMM_UKERNEL

/* c[m][n] = clamp(dequantized a[m][k] · W) over the configured micro-kernels and the pool; a is
 * int16 from ofx_x8_to_s16, rows a_stride elements apart with k padded to even by zeros. */
void ofx_q8_gemm(size_t m, size_t n, size_t k, const int16_t *a, size_t a_stride, const void *packed_w, float *c,
                 size_t c_stride, float output_min, float output_max, ofx_threadpool *pool);

#endif
