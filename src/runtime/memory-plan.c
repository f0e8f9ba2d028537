#include "runtime/memory-plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static size_t round_up(size_t size) {
  return (size + OFX_TENSOR_ALIGNMENT - 1) & ~(size_t)(OFX_TENSOR_ALIGNMENT - 1);
}

static void remove_range(ofx_memory_plan *plan, size_t i) {
  memmove(&plan->free_ranges[i], &plan->free_ranges[i + 1], (plan->n_free - i - 1) * sizeof *plan->free_ranges);
  plan->n_free--;
}

bool ofx_memory_plan_alloc(ofx_memory_plan *plan, size_t size, size_t *offset) {
  /* limits first: rounding up, offsets and the total must not wrap around (size_t is 32 bits in
   * WebAssembly) */
  if ((uint64_t)size > OFX_MEMORY_LIMIT || size > SIZE_MAX - OFX_TENSOR_ALIGNMENT) return false;
  size = round_up(size ? size : 1);
  size_t best = plan->n_free;
  for (size_t i = 0; i < plan->n_free; i++) {
    if (plan->free_ranges[i].size >= size &&
        (best == plan->n_free || plan->free_ranges[i].size < plan->free_ranges[best].size))
      best = i;
  }
  if (best < plan->n_free) {
    ofx_memory_range *r = &plan->free_ranges[best];
    *offset = r->offset;
    r->offset += size;
    r->size -= size;
    if (r->size == 0) remove_range(plan, best);
    return true;
  }
  /* nothing fits: grow the arena, reusing a free range at its end */
  bool reuse_last = plan->n_free && plan->free_ranges[plan->n_free - 1].offset + plan->free_ranges[plan->n_free - 1].size == plan->total;
  size_t start = reuse_last ? plan->free_ranges[plan->n_free - 1].offset : plan->total;
  if ((uint64_t)start + size > OFX_MEMORY_LIMIT || (uint64_t)start + size > SIZE_MAX) return false;
  if (reuse_last) plan->n_free--;
  *offset = start;
  plan->total = start + size;
  return true;
}

bool ofx_memory_plan_release(ofx_memory_plan *plan, size_t offset, size_t size) {
  size = round_up(size ? size : 1);
  if (plan->n_free == plan->capacity) {
    size_t capacity = plan->capacity ? plan->capacity * 2 : 32;
    ofx_memory_range *ranges = realloc(plan->free_ranges, capacity * sizeof *ranges);
    if (ranges == NULL) return false;
    plan->free_ranges = ranges;
    plan->capacity = capacity;
  }
  size_t i = 0;
  while (i < plan->n_free && plan->free_ranges[i].offset < offset) i++;
  memmove(&plan->free_ranges[i + 1], &plan->free_ranges[i], (plan->n_free - i) * sizeof *plan->free_ranges);
  plan->free_ranges[i] = (ofx_memory_range){offset, size};
  plan->n_free++;
  if (i + 1 < plan->n_free && plan->free_ranges[i].offset + plan->free_ranges[i].size == plan->free_ranges[i + 1].offset) {
    plan->free_ranges[i].size += plan->free_ranges[i + 1].size;
    remove_range(plan, i + 1);
  }
  if (i > 0 && plan->free_ranges[i - 1].offset + plan->free_ranges[i - 1].size == plan->free_ranges[i].offset) {
    plan->free_ranges[i - 1].size += plan->free_ranges[i].size;
    remove_range(plan, i);
  }
  return true;
}

void ofx_memory_plan_free(ofx_memory_plan *plan) {
  free(plan->free_ranges);
  memset(plan, 0, sizeof *plan);
}
