/* A growable text buffer: JSON to describe a model to JS in one call, or plain text. */
#ifndef OFX_BASE_JSON_H
#define OFX_BASE_JSON_H

#include <stdbool.h>
#include <stddef.h>

typedef struct ofx_json {
  char *text; /* NUL-terminated; owned */
  size_t len, capacity;
  bool failed; /* an allocation failed: the text is incomplete */
} ofx_json;

void ofx_json_raw(ofx_json *j, const char *s);
void ofx_json_string(ofx_json *j, const char *s); /* quoted and escaped */
void ofx_json_int(ofx_json *j, long long v);
/* Formatted text, appended as is (not quoted). */
void ofx_json_printf(ofx_json *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ofx_json_free(ofx_json *j);

#endif
