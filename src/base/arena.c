#include "base/arena.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_ALIGN 16
#define ARENA_BLOCK_MIN (64 * 1024)

struct ofx_arena_block {
  ofx_arena_block *next;
  size_t capacity;
  _Alignas(ARENA_ALIGN) unsigned char data[];
};

void *ofx_arena_alloc(ofx_arena *arena, size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  size_t bytes = count * size;
  if (bytes > SIZE_MAX - 2 * ARENA_ALIGN) return NULL;
  bytes = (bytes + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
  if (bytes == 0) bytes = ARENA_ALIGN;
  ofx_arena_block *block = arena->head;
  if (block == NULL || block->capacity - arena->used_in_head < bytes) {
    size_t capacity = bytes > ARENA_BLOCK_MIN ? bytes : ARENA_BLOCK_MIN;
    block = malloc(sizeof(ofx_arena_block) + capacity);
    if (block == NULL) return NULL;
    block->capacity = capacity;
    block->next = arena->head;
    arena->head = block;
    arena->used_in_head = 0;
  }
  void *p = block->data + arena->used_in_head;
  arena->used_in_head += bytes;
  arena->total_bytes += bytes;
  memset(p, 0, bytes);
  return p;
}

char *ofx_arena_strndup(ofx_arena *arena, const char *s, size_t len) {
  char *copy = ofx_arena_alloc(arena, len + 1, 1);
  if (copy == NULL) return NULL;
  if (len) memcpy(copy, s, len);
  copy[len] = '\0';
  return copy;
}

char *ofx_arena_sprintf(ofx_arena *arena, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(NULL, 0, fmt, args);
  va_end(args);
  if (n < 0) return NULL;
  char *s = ofx_arena_alloc(arena, (size_t)n + 1, 1);
  if (s == NULL) return NULL;
  va_start(args, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, args);
  va_end(args);
  return s;
}

void ofx_arena_free(ofx_arena *arena) {
  ofx_arena_block *block = arena->head;
  while (block) {
    ofx_arena_block *next = block->next;
    free(block);
    block = next;
  }
  arena->head = NULL;
  arena->used_in_head = 0;
  arena->total_bytes = 0;
}
