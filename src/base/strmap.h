/* Open-addressing map from C strings to size_t. Keys are not copied: they must outlive the map
 * (in practice they live in the same arena). */
#ifndef OFX_BASE_STRMAP_H
#define OFX_BASE_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ofx_strmap_slot {
  const char *key;
  size_t value;
} ofx_strmap_slot;

typedef struct ofx_strmap {
  ofx_strmap_slot *slots;
  size_t capacity; /* power of two */
  size_t count;
} ofx_strmap;

/* Inserts or overwrites. Returns false only when out of memory. */
bool ofx_strmap_put(ofx_strmap *map, const char *key, size_t value);
bool ofx_strmap_get(const ofx_strmap *map, const char *key, size_t *value);
void ofx_strmap_free(ofx_strmap *map);

#endif
