/* Protobuf wire-format writer: a growable buffer. Nested messages are written into their own
 * writer and appended with pbw_message, which knows their length. */
#ifndef OFX_ONNX_PB_WRITER_H
#define OFX_ONNX_PB_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct pb_writer {
  uint8_t *data;
  size_t len, capacity;
  bool failed; /* an allocation failed; the content is incomplete */
} pb_writer;

void pbw_varint_field(pb_writer *w, uint32_t field, uint64_t value);
void pbw_bytes_field(pb_writer *w, uint32_t field, const void *data, size_t len);
void pbw_string_field(pb_writer *w, uint32_t field, const char *s);
/* Appends `message` (another writer's content) as field `field`. */
void pbw_message(pb_writer *w, uint32_t field, const pb_writer *message);
void pbw_free(pb_writer *w);

#endif
