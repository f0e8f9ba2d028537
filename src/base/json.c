#include "base/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void append(ofx_json *j, const char *s, size_t n) {
  if (j->failed) return;
  if (j->len + n + 1 > j->capacity) {
    size_t capacity = j->capacity ? j->capacity : 256;
    while (capacity < j->len + n + 1) capacity *= 2;
    char *text = realloc(j->text, capacity);
    if (text == NULL) {
      j->failed = true;
      return;
    }
    j->text = text;
    j->capacity = capacity;
  }
  memcpy(j->text + j->len, s, n);
  j->len += n;
  j->text[j->len] = '\0';
}

void ofx_json_raw(ofx_json *j, const char *s) { append(j, s, strlen(s)); }

void ofx_json_printf(ofx_json *j, const char *fmt, ...) {
  char small[256];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(small, sizeof small, fmt, args);
  va_end(args);
  if (n < 0) return;
  if ((size_t)n < sizeof small) {
    append(j, small, (size_t)n);
    return;
  }
  char *big = malloc((size_t)n + 1);
  if (big == NULL) {
    j->failed = true;
    return;
  }
  va_start(args, fmt);
  vsnprintf(big, (size_t)n + 1, fmt, args);
  va_end(args);
  append(j, big, (size_t)n);
  free(big);
}

void ofx_json_string(ofx_json *j, const char *s) {
  append(j, "\"", 1);
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    char escaped[8];
    if (*p == '"' || *p == '\\') {
      escaped[0] = '\\';
      escaped[1] = (char)*p;
      append(j, escaped, 2);
    } else if (*p < 0x20) {
      snprintf(escaped, sizeof escaped, "\\u%04x", *p);
      append(j, escaped, 6);
    } else {
      append(j, (const char *)p, 1);
    }
  }
  append(j, "\"", 1);
}

void ofx_json_int(ofx_json *j, long long v) {
  char buf[32];
  snprintf(buf, sizeof buf, "%lld", v);
  ofx_json_raw(j, buf);
}

void ofx_json_free(ofx_json *j) {
  free(j->text);
  j->text = NULL;
  j->len = j->capacity = 0;
}
