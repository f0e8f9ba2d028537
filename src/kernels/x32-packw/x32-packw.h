/* Weight packing for the GEMM/IGEMM micro-kernels (x32: only moves 32-bit words).
 *
 * Packed layout, per block of nr output channels (the last block zero-padded):
 *   nr bias values, then k rows of nr weights (row kk holds weight kk of each of the nr
 *   channels).
 * so a kernel streams the block front to back: one aligned vector load per row gives nr
 * outputs' weights for one input element. Total floats: ofx_x32_packw_gemm_size(n, k, nr).
 *
 * The weights w may be unaligned (they are read straight from the initializer bytes in the
 * model buffer, with no aligned copy first); packed and bias are aligned floats. */
#ifndef OFX_KERNELS_X32_PACKW_H
#define OFX_KERNELS_X32_PACKW_H

#include <stddef.h>

/* Floats needed for n output channels of k weights, packed in blocks of nr. */
size_t ofx_x32_packw_gemm_size(size_t n, size_t k, size_t nr);

/* w is [n][k] (row j = weights of output channel j: Gemm with transB=1, 1x1 conv OIHW).
 * bias may be NULL (zeros). */
void ofx_x32_packw_gemm_goi(size_t n, size_t k, size_t nr, const void *w, const float *bias,
                            float *packed);

/* w is [k][n] (Gemm with transB=0, MatMul). bias may be NULL. */
void ofx_x32_packw_gemm_gio(size_t n, size_t k, size_t nr, const void *w, const float *bias,
                            float *packed);

/* ONNX conv weights w [cout][cin][kh][kw] (OIHW, one group) packed for the NHWC indirect GEMM:
 * K = kh*kw*cin in the order (ky, kx, ci), i.e. tap-major, matching the indirection buffer
 * (one pointer per tap to cin contiguous NHWC channels). bias may be NULL. Size:
 * ofx_x32_packw_gemm_size(cout, kh*kw*cin, nr). */
void ofx_x32_packw_conv_oihw(size_t cout, size_t cin, size_t kh, size_t kw, size_t nr,
                             const void *w, const float *bias, float *packed);

/* Depthwise conv weights w [channels][1][kh][kw] (taps = kh*kw) packed per tile of cr
 * channels: cr biases, then for each tap (ky, kx row-major) cr weights; the tail tile is
 * zero-padded. Size: ofx_x32_packw_dwconv_size(channels, taps, cr). */
size_t ofx_x32_packw_dwconv_size(size_t channels, size_t taps, size_t cr);
void ofx_x32_packw_dwconv_chw(size_t channels, size_t taps, size_t cr, const void *w,
                              const float *bias, float *packed);

#endif
