#include "base/strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint64_t hash_string(const char *s) {
  uint64_t h = 1469598103934665603ull; /* FNV-1a */
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

static bool grow(ofx_strmap *map) {
  size_t capacity = map->capacity ? map->capacity * 2 : 64;
  ofx_strmap_slot *slots = calloc(capacity, sizeof *slots);
  if (slots == NULL) return false;
  for (size_t i = 0; i < map->capacity; i++) {
    if (map->slots[i].key == NULL) continue;
    size_t j = hash_string(map->slots[i].key) & (capacity - 1);
    while (slots[j].key) j = (j + 1) & (capacity - 1);
    slots[j] = map->slots[i];
  }
  free(map->slots);
  map->slots = slots;
  map->capacity = capacity;
  return true;
}

bool ofx_strmap_put(ofx_strmap *map, const char *key, size_t value) {
  if ((map->count + 1) * 4 > map->capacity * 3 && !grow(map)) return false;
  size_t j = hash_string(key) & (map->capacity - 1);
  while (map->slots[j].key) {
    if (strcmp(map->slots[j].key, key) == 0) {
      map->slots[j].value = value;
      return true;
    }
    j = (j + 1) & (map->capacity - 1);
  }
  map->slots[j].key = key;
  map->slots[j].value = value;
  map->count++;
  return true;
}

bool ofx_strmap_get(const ofx_strmap *map, const char *key, size_t *value) {
  if (map->capacity == 0) return false;
  size_t j = hash_string(key) & (map->capacity - 1);
  while (map->slots[j].key) {
    if (strcmp(map->slots[j].key, key) == 0) {
      if (value) *value = map->slots[j].value;
      return true;
    }
    j = (j + 1) & (map->capacity - 1);
  }
  return false;
}

void ofx_strmap_free(ofx_strmap *map) {
  free(map->slots);
  map->slots = NULL;
  map->capacity = map->count = 0;
}
