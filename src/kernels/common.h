/* Shared by every micro-kernel: the fused-clamp params, the arch switch the registries (.inc)
 * test, and small helpers. Kernels never see graph types. */
#ifndef OFX_KERNELS_COMMON_H
#define OFX_KERNELS_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* wasmsimd variants exist only when the compiler targets WebAssembly SIMD128 (-msimd128);
 * natively only the scalar references are built and registered. */
#if defined(__wasm_simd128__)
#define OFX_ARCH_WASMSIMD 1
#else
#define OFX_ARCH_WASMSIMD 0
#endif

/* Output clamp fused into GEMM/conv kernels: -inf/+inf when the op has no activation, 0/+inf
 * for Relu, 0/6 for Relu6. */
typedef struct ofx_f32_minmax_params {
  float min, max;
} ofx_f32_minmax_params;

/* Below this many multiply-adds the drivers run a job on the calling thread: waking the pool
 * costs more than the job (about 10 us of work at 1 thread). */
#define OFX_GEMM_MIN_PARALLEL_MACS 262144.0

/* Columns of a packed GEMM/IGEMM weight panel (k + 1 floats per column) that stay in a 256 KiB
 * share of L2: the drivers tile N by this, so each panel is read from memory once and reused
 * by every row of A instead of once per MR rows. A multiple of nr, at least nr. */
static inline size_t ofx_gemm_l2_columns(size_t k, size_t nr) {
  const size_t cols = 65536 / (k + 1) / nr * nr;
  return cols < nr ? nr : cols;
}

static inline size_t ofx_round_up(size_t n, size_t q) { return (n + q - 1) / q * q; }
static inline size_t ofx_divide_round_up(size_t n, size_t q) { return (n + q - 1) / q; }

/* Rows per tile when a parallel GEMM/IGEMM splits only M: ~16 tiles per thread, whole mr
 * blocks. */
static inline size_t ofx_parallel_tile_m(size_t m, size_t mr, size_t threads) {
  return ofx_round_up(ofx_divide_round_up(m, threads * 16), mr);
}
static inline size_t ofx_min_sz(size_t a, size_t b) { return a < b ? a : b; }
static inline float ofx_clampf(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

#endif
