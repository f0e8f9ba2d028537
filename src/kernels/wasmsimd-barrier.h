/* Keeps a micro-kernel's K steps in order. Without it LLVM's WebAssembly backend regroups the
 * unrolled body per accumulator and hoists every weight load, keeping ~20 vectors live, and
 * V8 spills on x64's 16 XMM registers. An empty asm that "reads and writes" the accumulators
 * at the end of each step pins all of that step's arithmetic before the next step's loads.
 * It emits no instruction. */
#ifndef OFX_KERNELS_WASMSIMD_BARRIER_H
#define OFX_KERNELS_WASMSIMD_BARRIER_H

#define OFX_PIN_ACC8(a, b, c, d, e, f, g, h) \
  __asm__ __volatile__("" : "+r"(a), "+r"(b), "+r"(c), "+r"(d), "+r"(e), "+r"(f), "+r"(g), "+r"(h))

#endif
