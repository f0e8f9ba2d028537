/* IEEE half precision (float16) and bfloat16 <-> float32. onnxfx computes both in float32: float16
 * constants are widened once when the model loads, float16 inputs when they are set, and a Cast
 * to float16 rounds to float16 precision but stores float32 (docs/api.md, "float16"). */
#ifndef OFX_BASE_HALF_H
#define OFX_BASE_HALF_H

#include <stdint.h>
#include <string.h>

static inline float ofx_f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu, bits;
  if (exp == 0x1f) {
    bits = sign | 0x7f800000u | (mant << 13); /* inf, nan */
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else { /* subnormal: normalize */
    int e = -1;
    do {
      e++;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | ((uint32_t)(112 - e) << 23) | ((mant & 0x3ffu) << 13);
  }
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Round to nearest even; overflow gives inf, NaN stays NaN. */
static inline uint16_t ofx_f32_to_f16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
  uint32_t abs = x & 0x7fffffffu;
  if (abs >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (abs > 0x7f800000u ? 0x200u : 0));
  if (abs >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* rounds past 65504 */
  if (abs < 0x38800000u) {                                     /* subnormal or zero in float16 */
    if (abs < 0x33000000u) return sign;                         /* below half the smallest subnormal */
    uint32_t mant = (abs & 0x7fffffu) | 0x800000u;
    int shift = 126 - (int)(abs >> 23); /* 14 + (113 - exp) */
    uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1u))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t half = ((abs >> 13) - (112u << 10)), rest = abs & 0x1fffu;
  if (rest > 0x1000u || (rest == 0x1000u && (half & 1u))) half++;
  return (uint16_t)(sign | half);
}

/* f rounded to float16 precision, as float32. */
static inline float ofx_f16_round(float f) { return ofx_f16_to_f32(ofx_f32_to_f16(f)); }

/* bfloat16: the upper half of a float32. */
static inline float ofx_bf16_to_f32(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

/* Round to nearest even; NaN stays NaN. */
static inline uint16_t ofx_f32_to_bf16(float f) {
  uint32_t x;
  memcpy(&x, &f, sizeof x);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  x += 0x7fffu + ((x >> 16) & 1u);
  return (uint16_t)(x >> 16);
}

/* f rounded to bfloat16 precision, as float32. */
static inline float ofx_bf16_round(float f) { return ofx_bf16_to_f32(ofx_f32_to_bf16(f)); }

#endif
