#include "onnx/pb.h"

#include <string.h>

bool pb_read_varint(const uint8_t **pos, const uint8_t *end, uint64_t *value) {
  const uint8_t *p = *pos;
  uint64_t result = 0;
  for (unsigned shift = 0; shift < 70; shift += 7) {
    if (p >= end) return false;
    uint8_t byte = *p++;
    /* The 10th byte may only carry the top bit of a 64-bit value. */
    if (shift == 63 && byte > 1) return false;
    result |= (uint64_t)(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *pos = p;
      *value = result;
      return true;
    }
  }
  return false;
}

static uint64_t load_le(const uint8_t *p, unsigned n) {
  uint64_t v = 0;
  for (unsigned i = 0; i < n; i++) v |= (uint64_t)p[i] << (8 * i);
  return v;
}

pb_result pb_next(pb_reader *r, pb_field *field, const char **why) {
  field->number = 0; /* until the key is read, for error messages */
  if (r->pos >= r->end) return PB_DONE;
  uint64_t key;
  if (!pb_read_varint(&r->pos, r->end, &key)) {
    *why = "field key is not a valid varint";
    return PB_MALFORMED;
  }
  if ((key >> 3) == 0 || (key >> 3) > 0x1FFFFFFF) {
    *why = "field number out of range";
    return PB_MALFORMED;
  }
  field->number = (uint32_t)(key >> 3);
  field->wire_type = (uint32_t)(key & 7);
  field->bytes = NULL;
  field->len = 0;
  field->value = 0;
  size_t remaining = (size_t)(r->end - r->pos);
  switch (field->wire_type) {
    case PB_VARINT:
      if (!pb_read_varint(&r->pos, r->end, &field->value)) {
        *why = "varint runs past the end or is longer than 10 bytes";
        return PB_MALFORMED;
      }
      return PB_FIELD;
    case PB_FIXED64:
      if (remaining < 8) {
        *why = "fixed64 runs past the end";
        return PB_MALFORMED;
      }
      field->value = load_le(r->pos, 8);
      r->pos += 8;
      return PB_FIELD;
    case PB_FIXED32:
      if (remaining < 4) {
        *why = "fixed32 runs past the end";
        return PB_MALFORMED;
      }
      field->value = load_le(r->pos, 4);
      r->pos += 4;
      return PB_FIELD;
    case PB_LEN: {
      uint64_t len;
      if (!pb_read_varint(&r->pos, r->end, &len)) {
        *why = "length is not a valid varint";
        return PB_MALFORMED;
      }
      if (len > (uint64_t)(r->end - r->pos)) {
        *why = "length runs past the end of the enclosing message";
        return PB_MALFORMED;
      }
      field->bytes = r->pos;
      field->len = (size_t)len;
      r->pos += len;
      return PB_FIELD;
    }
    default:
      /* Groups are deprecated and never used by onnx.proto. */
      *why = "unsupported wire type";
      return PB_MALFORMED;
  }
}

bool pb_scalar_count(const pb_field *field, uint32_t elem_wire_type, size_t *count) {
  if (field->wire_type == elem_wire_type) {
    *count = 1;
    return true;
  }
  if (field->wire_type != PB_LEN) return false;
  switch (elem_wire_type) {
    case PB_FIXED32:
      if (field->len % 4) return false;
      *count = field->len / 4;
      return true;
    case PB_FIXED64:
      if (field->len % 8) return false;
      *count = field->len / 8;
      return true;
    case PB_VARINT: {
      const uint8_t *p = field->bytes, *end = field->bytes + field->len;
      size_t n = 0;
      uint64_t ignored;
      while (p < end) {
        if (!pb_read_varint(&p, end, &ignored)) return false;
        n++;
      }
      *count = n;
      return true;
    }
    default:
      return false;
  }
}

float pb_f32_from_bits(uint32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

double pb_f64_from_bits(uint64_t bits) {
  double d;
  memcpy(&d, &bits, sizeof d);
  return d;
}
