#include "onnx/pb-writer.h"

#include <stdlib.h>
#include <string.h>

#include "onnx/pb.h"

static void append(pb_writer *w, const void *data, size_t len) {
  if (w->failed || len == 0) return;
  if (w->len + len > w->capacity) {
    size_t capacity = w->capacity ? w->capacity : 256;
    while (capacity < w->len + len) capacity *= 2;
    uint8_t *grown = realloc(w->data, capacity);
    if (grown == NULL) {
      w->failed = true;
      return;
    }
    w->data = grown;
    w->capacity = capacity;
  }
  memcpy(w->data + w->len, data, len);
  w->len += len;
}

static void varint(pb_writer *w, uint64_t v) {
  uint8_t buf[10];
  size_t n = 0;
  do {
    buf[n] = (uint8_t)(v & 0x7F);
    v >>= 7;
    if (v) buf[n] |= 0x80;
    n++;
  } while (v);
  append(w, buf, n);
}

void pbw_varint_field(pb_writer *w, uint32_t field, uint64_t value) {
  varint(w, ((uint64_t)field << 3) | PB_VARINT);
  varint(w, value);
}

void pbw_bytes_field(pb_writer *w, uint32_t field, const void *data, size_t len) {
  varint(w, ((uint64_t)field << 3) | PB_LEN);
  varint(w, len);
  append(w, data, len);
}

void pbw_string_field(pb_writer *w, uint32_t field, const char *s) { pbw_bytes_field(w, field, s, strlen(s)); }

void pbw_message(pb_writer *w, uint32_t field, const pb_writer *message) {
  if (message->failed) w->failed = true;
  pbw_bytes_field(w, field, message->data, message->len);
}

void pbw_free(pb_writer *w) {
  free(w->data);
  memset(w, 0, sizeof *w);
}
