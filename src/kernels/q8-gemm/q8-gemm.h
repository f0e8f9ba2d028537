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

/* ---- The c4 family: 8-bit activations, K in fours, i32x4.relaxed_dot_i8x16_i7x16_add ----
 *
 * The relaxed dot multiplies a signed byte by a second operand that is exact on every engine
 * only in [0, 127] (x86 reads it unsigned, ARM signed). So activations stay 8-bit, staged as
 * s = x - 128 (uint8, a sign-bit flip) or x (int8) with no zero point taken off, and weights in
 * their unsigned form v = w (uint8) or w + 128 (int8) are split at packing into 7-bit parts,
 * v = lo + 128 * hi (lo in [0, 127], hi in {0, 1}): two dots per 4 K steps x 4 columns, each
 * second operand in range. With zs and zv the zero points in those forms, R the row's sum of s
 * (padding 0s included) and C = sum_k (v - zv) the column's (packed):
 *   sum_k (x - zx)(w - zw) = sum_k (s - zs)(v - zv) = sum_k s*lo + 128 * sum_k s*hi - zv*R - zs*C
 * an exact int32 equal to the c2 kernels' sum, so the same epilogue gives the same bits. */

/* K steps per packed group: the four bytes one relaxed dot lane sums. */
#define OFX_Q8C4_GEMM_KR 4

/* Bytes of c4-packed weights: per block of nr columns nr scales, nr biases (float), nr zero
 * points zv and nr column sums C (int32), then per group of 4 K steps nr x 4 bytes of lo and
 * nr x 4 bytes of hi, column j's 4 steps at bytes 4j..4j+3 of each. */
size_t ofx_q8c4_packw_gemm_size(size_t n, size_t k, size_t nr);

/* As ofx_q8_packw_gemm (same arguments), for the c4 kernels: K padded to a multiple of 4. */
void ofx_q8c4_packw_gemm(size_t n, size_t k, size_t nr, const void *w, size_t n_stride, size_t k_stride, bool is_signed,
                         const int32_t *zero_point, bool per_column, const float *scale, const float *bias, void *packed);

/* Staged activations of the c4 kernels: y[i] = x[i] - 128 (uint8) or x[i] (int8), as int8. */
void ofx_x8_to_s8__scalar(size_t n, const void *x, bool is_signed, int8_t *y);

/* The zero point zs of activations staged by ofx_x8_to_s8: the value zero_point stages to. */
static inline int32_t ofx_q8c4_staged_zero_point(bool is_signed, int32_t zero_point) {
  return is_signed ? zero_point : zero_point - 128;
}

/* c4 micro-kernel contract: a holds mr rows of int8 staged by ofx_x8_to_s8 (row i at
 * a + i * a_stride bytes), each with kc steps padded with zeros to a multiple of 4; a_zero_point
 * is their staged zero point (ofx_q8c4_staged_zero_point); w is packed by ofx_q8c4_packw_gemm
 * with nr = NR; c as for the c2 kernels. K <= 32767 (the c2 bound: the same int32 sums). */
typedef void (*ofx_q8c4_gemm_minmax_ukernel_fn)(size_t mr, size_t nc, size_t kc, const int8_t *a, size_t a_stride,
                                                int32_t a_zero_point, const void *w, float *c, size_t cm_stride,
                                                size_t cn_stride, const ofx_f32_minmax_params *params);

#define OFX_Q8C4_GEMM_UKERNEL(arch, ukernel, mr, nr)                                                            \
  void ukernel(size_t mr_, size_t nc, size_t kc, const int8_t *a, size_t a_stride, int32_t a_zero_point,     \
               const void *w, float *c, size_t cm_stride, size_t cn_stride, const ofx_f32_minmax_params *params);
#include "kernels/q8-gemm/q8c4-gemm.inc"
#undef OFX_Q8C4_GEMM_UKERNEL

/* c[m][n] = clamp(dequantized a[m][k] · W) over the configured micro-kernels and the pool; a is
 * int16 from ofx_x8_to_s16, rows a_stride elements apart with k padded to even by zeros. */
void ofx_q8_gemm(size_t m, size_t n, size_t k, const int16_t *a, size_t a_stride, const void *packed_w, float *c,
                 size_t c_stride, float output_min, float output_max, ofx_threadpool *pool);

#endif
