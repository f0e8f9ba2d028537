/* float32 to uint8 quantization, the activation side of dynamically quantized models
 * (DynamicQuantizeLinear): the range of a tensor, then y = saturate(round(x / scale) + zp) with
 * rounding half to even, as ONNX defines it. */
#ifndef OFX_KERNELS_F32_QU8_H
#define OFX_KERNELS_F32_QU8_H

#include <stddef.h>
#include <stdint.h>

/* *lo = min(x), *hi = max(x) over n elements, NaN ignored (none left: +inf and -inf). */
typedef void (*ofx_f32_rminmax_fn)(size_t n, const float *x, float *lo, float *hi);
void ofx_f32_rminmax__scalar(size_t n, const float *x, float *lo, float *hi);
void ofx_f32_rminmax__wasmsimd_u16(size_t n, const float *x, float *lo, float *hi);

/* y[i] = min(max(nearbyint(x[i] / scale) + zero_point, 0), 255); NaN gives 0. */
typedef void (*ofx_f32_qu8_vcvt_fn)(size_t n, const float *x, float scale, int32_t zero_point, uint8_t *y);
void ofx_f32_qu8_vcvt__scalar(size_t n, const float *x, float scale, int32_t zero_point, uint8_t *y);
void ofx_f32_qu8_vcvt__wasmsimd_u16(size_t n, const float *x, float scale, int32_t zero_point, uint8_t *y);

/* QuantizeLinear then DequantizeLinear in one pass (a QDQ model's round trip after a layer):
 * q = min(max(nearbyint(x[i] / scale) + zero_point, qmin), qmax) (NaN: qmin), then
 * y[i] = min(max((q - zero_point) * scale, out_min), out_max); the float operations of the two
 * nodes, so the bits are theirs. In place is fine. */
typedef void (*ofx_f32_vqdq_fn)(size_t n, const float *x, float scale, int32_t zero_point, float qmin, float qmax,
                                float out_min, float out_max, float *y);
void ofx_f32_vqdq__scalar(size_t n, const float *x, float scale, int32_t zero_point, float qmin, float qmax, float out_min,
                          float out_max, float *y);
void ofx_f32_vqdq__wasmsimd_u8(size_t n, const float *x, float scale, int32_t zero_point, float qmin, float qmax, float out_min,
                               float out_max, float *y);

#endif
