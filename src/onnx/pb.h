/* Protobuf wire-format reader: bounds-checked, zero-copy. Every read checks the remaining
 * length first; lengths and varints that do not fit fail instead of reading past the end. */
#ifndef OFX_ONNX_PB_H
#define OFX_ONNX_PB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pb_wire_type {
  PB_VARINT = 0,
  PB_FIXED64 = 1,
  PB_LEN = 2,
  PB_START_GROUP = 3,
  PB_END_GROUP = 4,
  PB_FIXED32 = 5,
};

typedef struct pb_reader {
  const uint8_t *pos;
  const uint8_t *end;
} pb_reader;

/* One decoded field. For PB_LEN, `bytes`/`len` is the payload inside the message; otherwise
 * `value` is the varint or the little-endian fixed value. */
typedef struct pb_field {
  uint32_t number;
  uint32_t wire_type;
  uint64_t value;
  const uint8_t *bytes;
  size_t len;
} pb_field;

typedef enum pb_result { PB_FIELD = 0, PB_DONE = 1, PB_MALFORMED = 2 } pb_result;

static inline pb_reader pb_reader_init(const uint8_t *data, size_t len) {
  pb_reader r = {data, data + len};
  return r;
}

/* Reads the next field; PB_DONE at the end of the message. On PB_MALFORMED, *why says what. */
pb_result pb_next(pb_reader *r, pb_field *field, const char **why);

/* Counts the elements of a repeated scalar field occurrence (packed or not). */
bool pb_scalar_count(const pb_field *field, uint32_t elem_wire_type, size_t *count);

float pb_f32_from_bits(uint32_t bits);
double pb_f64_from_bits(uint64_t bits);

/* Reads one varint from [*pos, end); false if it runs past end or is longer than 10 bytes. */
bool pb_read_varint(const uint8_t **pos, const uint8_t *end, uint64_t *value);

#endif
