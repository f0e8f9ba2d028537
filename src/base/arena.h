/* A bump allocator: many small allocations freed together (decoded protobuf, graph IR). */
#ifndef OFX_BASE_ARENA_H
#define OFX_BASE_ARENA_H

#include <stddef.h>

typedef struct ofx_arena_block ofx_arena_block;

typedef struct ofx_arena {
  ofx_arena_block *head;
  size_t used_in_head;
  size_t total_bytes; /* everything handed out, for limits and leak tests */
} ofx_arena;

/* Returns zeroed, 16-byte aligned memory, or NULL when out of memory or when count * size
 * overflows. */
void *ofx_arena_alloc(ofx_arena *arena, size_t count, size_t size);
/* Copies len bytes and appends a NUL: IR names are C strings even when the model's are not. */
char *ofx_arena_strndup(ofx_arena *arena, const char *s, size_t len);
char *ofx_arena_sprintf(ofx_arena *arena, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ofx_arena_free(ofx_arena *arena);

#endif
