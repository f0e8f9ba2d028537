/* Offsets in one arena for tensors with known lifetimes: best-fit reuse of released ranges,
 * growing the arena only when nothing free fits (cf. ggml-alloc). */
#ifndef OFX_RUNTIME_MEMORY_PLAN_H
#define OFX_RUNTIME_MEMORY_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OFX_TENSOR_ALIGNMENT 64

/* The most memory one extractor may plan (tensor arena, scratch): the 4 GiB a wasm32 heap can
 * ever have. Checked before allocating, so that a model implying huge activations fails with
 * an error naming the tensor instead of a failed or wrapped-around allocation. Fuzz builds
 * lower it (-DOFX_MEMORY_LIMIT=...) so that the check, not the fuzzer's malloc limit, fires. */
#ifndef OFX_MEMORY_LIMIT
#define OFX_MEMORY_LIMIT ((uint64_t)4 << 30)
#endif

typedef struct ofx_memory_range {
  size_t offset, size;
} ofx_memory_range;

typedef struct ofx_memory_plan {
  ofx_memory_range *free_ranges; /* sorted by offset, coalesced */
  size_t n_free, capacity;
  size_t total; /* arena size so far */
} ofx_memory_plan;

/* Returns false when the arena would grow past OFX_MEMORY_LIMIT (never wrapping around). */
bool ofx_memory_plan_alloc(ofx_memory_plan *plan, size_t size, size_t *offset);
/* Returns false when out of memory (for the plan's own bookkeeping). */
bool ofx_memory_plan_release(ofx_memory_plan *plan, size_t offset, size_t size);
void ofx_memory_plan_free(ofx_memory_plan *plan);

#endif
