/* Indirect GEMM: NHWC convolution as a GEMM whose A rows are gathered through an indirection
 * buffer of pointers (one per output pixel and kernel tap) instead of an im2col copy. */
#ifndef OFX_KERNELS_F32_IGEMM_H
#define OFX_KERNELS_F32_IGEMM_H

#include <stddef.h>

#include "kernels/common.h"
#include "kernels/f32-vunary/f32-vunary.h"

typedef struct ofx_threadpool ofx_threadpool;

/* Pointers needed for an output of out_h x out_w pixels and a kh x kw kernel, tiled by mr. */
size_t ofx_indirection_size_conv2d(size_t out_h, size_t out_w, size_t kh, size_t kw, size_t mr);

/* Fills `indirection` for one image (group): output pixels are taken mr at a time (the last
 * tile repeats the last pixel), and for each tile, for each tap (ky, kx), the mr pointers
 *   indirection[(p / mr) * mr * taps + tap * mr + p % mr] =
 *       input + (iy * in_w + ix) * input_pixel_stride    (iy = oy*stride_h + ky*dil_h - pad_top)
 *   or `zero` when (iy, ix) falls in the padding.
 * input_pixel_stride is in floats (the total channel count; a group's first channel is
 * reached with the a_offset of the kernels). With mr = 1 this is also the [pixel][tap] layout
 * the dwconv kernels read. */
void ofx_indirection_init_conv2d_nhwc(const float **indirection, const float *input,
                                      size_t input_pixel_stride, const float *zero, size_t in_h,
                                      size_t in_w, size_t out_h, size_t out_w, size_t kh,
                                      size_t kw, size_t stride_h, size_t stride_w, size_t dil_h,
                                      size_t dil_w, size_t pad_top, size_t pad_left, size_t mr);

/* IGEMM micro-kernel contract (sizes and strides in floats, a_offset in bytes):
 *   a holds ks groups of MR pointers (ks = kernel taps): row i's tap t reads kc floats at
 *   a[t*MR + i] + a_offset bytes, or at `zero` (never offset) when the pointer equals zero;
 *   for i < mr, j < nc:
 *     c[i*cm_stride + (j/NR)*cn_stride + j%NR] = clamp(bias[j] + sum_{t,kk} A_i,t[kk] * W[t*kc+kk][j])
 *   w is packed by ofx_x32_packw_conv_oihw (K = ks*kc, tap-major). `zero` holds >= kc zeros.
 * a_offset lets one indirection buffer serve every image of a batch, every group, and a
 * moved input: a_offset = (uintptr_t)actual_input - (uintptr_t)input_used_at_init. */
typedef void (*ofx_f32_igemm_minmax_ukernel_fn)(size_t mr, size_t nc, size_t kc, size_t ks,
                                                 const float **a, const float *w, float *c,
                                                 size_t cm_stride, size_t cn_stride,
                                                 size_t a_offset, const float *zero,
                                                 const ofx_f32_minmax_params *params);

#define OFX_IGEMM_UKERNEL(arch, ukernel, mr, nr)                                              \
  void ukernel(size_t mr_, size_t nc, size_t kc, size_t ks, const float **a, const float *w, \
               float *c, size_t cm_stride, size_t cn_stride, size_t a_offset,               \
               const float *zero, const ofx_f32_minmax_params *params);
#include "kernels/f32-igemm/f32-igemm.inc"
#undef OFX_IGEMM_UKERNEL

/* One image (group) of an NHWC convolution: c[m][n] for m = out_h*out_w output pixels and
 * n output channels, c rows c_stride floats apart. indirection was built with mr_layout
 * (ofx_kernels()->igemm_mr normally, 1 for single-pixel outputs), kc = input channels (of
 * the group), ks = taps. post (NULL: none) runs in place on each output tile right after it is
 * computed (a Conv's fused activation). Threads over the pool when not NULL. */
void ofx_f32_igemm(size_t mr_layout, size_t m, size_t n, size_t kc, size_t ks,
                   const float **indirection, const float *packed_w, float *c, size_t c_stride,
                   size_t a_offset, const float *zero, float output_min, float output_max,
                   ofx_f32_vunary_fn post, ofx_threadpool *pool);

#endif
