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
/* wasmrelaxedsimd variants (FMA through f32x4.relaxed_madd) exist in the relaxed build only
 * (clang >= 16 with -mrelaxed-simd, which also defines __wasm_simd128__: every wasmsimd kernel
 * is there too). */
#if defined(__wasm_relaxed_simd__)
#define OFX_ARCH_WASMRELAXEDSIMD 1
#else
#define OFX_ARCH_WASMRELAXEDSIMD 0
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

/* Tiles of an M x N GEMM/IGEMM over `threads`: N in weight panels of `panel_columns` (what stays
 * in L2), M whole on one thread. On more threads: with one panel (all weights in L2) M goes in
 * ~16 tiles per thread (ofx_parallel_tile_m): enough to balance a thread slowed by others
 * sharing its core, few enough that claiming a tile (an atomic shared by the threads) stays
 * negligible; mr-row tiles cost 10-20% at 2 threads. With several panels M is split so every
 * thread gets ~4 tiles, and too few rows to split (M = 1) split N further, in whole nr blocks. */
static inline void ofx_gemm_tiles(size_t m, size_t n, size_t mr, size_t nr, size_t panel_columns, size_t threads,
                                  size_t *tile_m, size_t *tile_n) {
  *tile_n = ofx_min_sz(n, panel_columns), *tile_m = m;
  if (threads <= 1) return;
  const size_t want = threads * 4, n_tiles = ofx_divide_round_up(n, *tile_n);
  if (n_tiles == 1) *tile_m = ofx_parallel_tile_m(m, mr, threads);
  else if (n_tiles < want) *tile_m = ofx_round_up(ofx_divide_round_up(m, ofx_divide_round_up(want, n_tiles)), mr);
  while (ofx_divide_round_up(m, *tile_m) * ofx_divide_round_up(n, *tile_n) < want && *tile_n > nr)
    *tile_n = ofx_round_up(*tile_n / 2, nr);
}
static inline float ofx_clampf(float v, float lo, float hi) {
  v = v < lo ? lo : v;
  return v > hi ? hi : v;
}

#endif
