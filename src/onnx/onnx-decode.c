/* ModelProto decoder. Each message is read twice: once to count its repeated fields (and check
 * the wire structure), once to fill arrays sized from those counts, so nothing is reallocated.
 * On error each level prepends its field name, giving paths like graph.node[3].attribute[0]. */
#include <stdio.h>
#include <string.h>

#include "base/status.h"
#include "onnx/onnx.h"
#include "onnx/pb.h"

#define FIELD_SLOTS 32
/* Attribute graphs nest (If/Loop/Scan bodies); hostile files must not exhaust the stack. */
#define MAX_DEPTH 48

typedef struct decoder {
  ofx_arena *arena;
  const uint8_t *base;
  int depth;
} decoder;

/* Leaf messages start with ": " (structural) or a field name; path() joins each level's name
 * in front, giving "graph.node[3].attribute[0].t: length runs past ...". */
static ofx_status malformed(const decoder *d, const uint8_t *at, uint32_t field, const char *why) {
  if (field) /* the key was read: say which field is broken */
    return ofx_error(OFX_BAD_MODEL, ": field %u: %s (byte offset %zu)", field, why, (size_t)(at - d->base));
  return ofx_error(OFX_BAD_MODEL, ": %s (byte offset %zu)", why, (size_t)(at - d->base));
}

static ofx_status path(ofx_status status, const char *name, long index) {
  const char *rest = ofx_last_error();
  const char *sep = (rest[0] == ':' || rest[0] == '[') ? "" : ".";
  if (index >= 0) return ofx_error_prefix(status, "%s[%ld]%s", name, index, sep);
  return ofx_error_prefix(status, "%s%s", name, sep);
}

static ofx_status out_of_memory(void) {
  return ofx_error(OFX_OUT_OF_MEMORY, "out of memory while decoding the model");
}

/* First pass: occurrences per field number (repeated scalars count occurrences, not elements). */
static ofx_status count_fields(const decoder *d, const uint8_t *p, size_t len,
                               size_t counts[FIELD_SLOTS]) {
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why = NULL;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (f.number < FIELD_SLOTS) counts[f.number]++;
  }
  if (res == PB_MALFORMED) return malformed(d, r.pos, f.number, why);
  return OFX_OK;
}

#define ALLOC_ARRAY(ptr, n)                                                \
  do {                                                                     \
    if ((n) > 0) {                                                         \
      (ptr) = ofx_arena_alloc(d->arena, (n), sizeof *(ptr));               \
      if ((ptr) == NULL) return out_of_memory();                           \
    }                                                                      \
  } while (0)

static ofx_status wire_mismatch(const decoder *d, const pb_field *f, const char *name) {
  (void)d;
  return ofx_error(OFX_BAD_MODEL, "%s: field %u has wire type %u, which does not fit its type",
                   name, f->number, f->wire_type);
}

static ofx_status read_str(const decoder *d, const pb_field *f, const char *name, onnx_str *out) {
  if (f->wire_type != PB_LEN) return wire_mismatch(d, f, name);
  out->ptr = (const char *)f->bytes;
  out->len = f->len;
  return OFX_OK;
}

static ofx_status read_i64(const decoder *d, const pb_field *f, const char *name, int64_t *out) {
  if (f->wire_type != PB_VARINT) return wire_mismatch(d, f, name);
  *out = (int64_t)f->value;
  return OFX_OK;
}

static ofx_status read_i32(const decoder *d, const pb_field *f, const char *name, int32_t *out) {
  if (f->wire_type != PB_VARINT) return wire_mismatch(d, f, name);
  *out = (int32_t)(uint32_t)f->value; /* negative int32 are sign-extended 10-byte varints */
  return OFX_OK;
}

static ofx_status add_repeated(const decoder *d, const pb_field *f, const char *name,
                               const uint8_t *msg, size_t msg_len, uint32_t field,
                               uint32_t elem_wire_type, onnx_repeated *r) {
  size_t n;
  if (!pb_scalar_count(f, elem_wire_type, &n)) return wire_mismatch(d, f, name);
  r->msg = msg;
  r->msg_end = msg + msg_len;
  r->field = field;
  r->elem_wire_type = elem_wire_type;
  r->sign_extend_32 = field == 5; /* TensorProto.int32_data is the only int32 repeated field */
  r->count += n;
  return OFX_OK;
}

static ofx_status repeated_to_i64_array(const decoder *d, const onnx_repeated *r,
                                        int64_t **out) {
  if (r->count == 0) return OFX_OK;
  int64_t *a = NULL;
  ALLOC_ARRAY(a, r->count);
  onnx_repeated_read_i64(r, a);
  *out = a;
  return OFX_OK;
}

static ofx_status decode_entry(decoder *d, const uint8_t *p, size_t len, onnx_string_entry *e) {
  e->raw = (onnx_str){(const char *)p, len};
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (f.number == 1) OFX_TRY(read_str(d, &f, "key", &e->key));
    else if (f.number == 2) OFX_TRY(read_str(d, &f, "value", &e->value));
  }
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

/* Decodes one element of a repeated message field into slot `index` of `array`. */
#define DECODE_ELEMENT(fn, field_name, array, index)                                  \
  do {                                                                                \
    if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, field_name);               \
    ofx_status s_ = fn(d, f.bytes, f.len, &(array)[index]);                           \
    if (s_ != OFX_OK) return path(s_, field_name, (long)(index)); \
    (index)++;                                                                        \
  } while (0)

/* Decodes an optional message field into a freshly allocated struct. A second occurrence would
 * have to be merged into the first (protobuf semantics), which views sized by the first pass
 * cannot express: decoding it into the same struct overran its arrays, so it is rejected. */
#define DECODE_CHILD(fn, field_name, ptr)                                             \
  do {                                                                                \
    if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, field_name);               \
    if ((ptr) != NULL)                                                                \
      return ofx_error(OFX_BAD_MODEL, "%s: field %u appears more than once, merging is not supported", \
                       field_name, f.number);                                         \
    (ptr) = ofx_arena_alloc(d->arena, 1, sizeof *(ptr));                              \
    if ((ptr) == NULL) return out_of_memory();                                        \
    ofx_status s_ = fn(d, f.bytes, f.len, (ptr));                                     \
    if (s_ != OFX_OK) return path(s_, field_name, -1);                 \
  } while (0)

#define CHECK_DEPTH()                                                                 \
  do {                                                                                \
    if (d->depth >= MAX_DEPTH)                                                        \
      return ofx_error(OFX_BAD_MODEL, "messages nested deeper than %d levels", MAX_DEPTH); \
  } while (0)

static ofx_status decode_dim(decoder *d, const uint8_t *p, size_t len, onnx_dim *dim) {
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (f.number == 1) {
      OFX_TRY(read_i64(d, &f, "dim_value", &dim->value));
      dim->has_value = true;
      dim->has_param = false; /* dim_value and dim_param are a oneof: the last one wins */
    } else if (f.number == 2) {
      OFX_TRY(read_str(d, &f, "dim_param", &dim->param));
      dim->has_param = true;
      dim->has_value = false;
    } else if (f.number == 3) {
      OFX_TRY(read_str(d, &f, "denotation", &dim->denotation));
    }
  }
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

static ofx_status decode_shape(decoder *d, const uint8_t *p, size_t len, onnx_type *t) {
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(t->dims, counts[1]);
  t->has_shape = true;
  t->rank = 0;
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    if (f.number == 1) DECODE_ELEMENT(decode_dim, "dim", t->dims, t->rank);
  }
  return OFX_OK;
}

static ofx_status decode_type(decoder *d, const uint8_t *p, size_t len, onnx_type *t);

/* TypeProto.Tensor, TypeProto.SparseTensor: elem_type = 1, shape = 2. */
static ofx_status decode_tensor_type(decoder *d, const uint8_t *p, size_t len, onnx_type *t) {
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (f.number == 1) {
      OFX_TRY(read_i32(d, &f, "elem_type", &t->elem_type));
    } else if (f.number == 2) {
      if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, "shape");
      ofx_status s = decode_shape(d, f.bytes, f.len, t);
      if (s != OFX_OK) return path(s, "shape", -1);
    }
  }
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

/* TypeProto.Sequence and .Optional: elem_type = 1; TypeProto.Map: key_type = 1, value_type = 2. */
static ofx_status decode_wrapped_type(decoder *d, const uint8_t *p, size_t len, onnx_type *t) {
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (t->kind == ONNX_TYPE_MAP && f.number == 1) {
      OFX_TRY(read_i32(d, &f, "key_type", &t->map_key_type));
    } else if ((t->kind == ONNX_TYPE_MAP && f.number == 2) ||
               (t->kind != ONNX_TYPE_MAP && f.number == 1)) {
      DECODE_CHILD(decode_type, t->kind == ONNX_TYPE_MAP ? "value_type" : "elem_type", t->elem);
    }
  }
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

static ofx_status decode_type(decoder *d, const uint8_t *p, size_t len, onnx_type *t) {
  CHECK_DEPTH();
  d->depth++;
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    ofx_status s = OFX_OK;
    const char *member = NULL; /* the oneof member, for error paths */
    switch (f.number) {
      case ONNX_TYPE_TENSOR: member = "tensor_type"; break;
      case ONNX_TYPE_SPARSE_TENSOR: member = "sparse_tensor_type"; break;
      case ONNX_TYPE_SEQUENCE: member = "sequence_type"; break;
      case ONNX_TYPE_MAP: member = "map_type"; break;
      case ONNX_TYPE_OPTIONAL: member = "optional_type"; break;
    }
    if (member != NULL && t->kind != (int)f.number) {
      /* Setting another oneof member clears the previous one. */
      onnx_str denotation = t->denotation;
      memset(t, 0, sizeof *t);
      t->denotation = denotation;
    }
    switch (f.number) {
      case ONNX_TYPE_TENSOR:
      case ONNX_TYPE_SPARSE_TENSOR:
        if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, member);
        t->kind = (int)f.number;
        s = decode_tensor_type(d, f.bytes, f.len, t);
        break;
      case ONNX_TYPE_SEQUENCE:
      case ONNX_TYPE_MAP:
      case ONNX_TYPE_OPTIONAL:
        if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, member);
        t->kind = (int)f.number;
        s = decode_wrapped_type(d, f.bytes, f.len, t);
        break;
      case 6:
        OFX_TRY(read_str(d, &f, "denotation", &t->denotation));
        break;
    }
    if (s != OFX_OK) return path(s, member, -1);
  }
  d->depth--;
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

static ofx_status decode_value_info(decoder *d, const uint8_t *p, size_t len,
                                    onnx_value_info *v) {
  v->raw = (onnx_str){(const char *)p, len};
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(v->metadata, counts[4]);
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: OFX_TRY(read_str(d, &f, "name", &v->name)); break;
      case 2: DECODE_CHILD(decode_type, "type", v->type); break;
      case 3: OFX_TRY(read_str(d, &f, "doc_string", &v->doc_string)); break;
      case 4: DECODE_ELEMENT(decode_entry, "metadata_props", v->metadata, v->n_metadata); break;
    }
  }
  return OFX_OK;
}

static ofx_status decode_tensor(decoder *d, const uint8_t *p, size_t len, onnx_tensor *t) {
  t->raw = (onnx_str){(const char *)p, len};
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(t->string_data, counts[6]);
  ALLOC_ARRAY(t->external_data, counts[13]);
  ALLOC_ARRAY(t->metadata, counts[16]);
  onnx_repeated dims = {0};
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: OFX_TRY(add_repeated(d, &f, "dims", p, len, 1, PB_VARINT, &dims)); break;
      case 2: OFX_TRY(read_i32(d, &f, "data_type", &t->data_type)); break;
      case 3: { /* Segment: begin = 1, end = 2 */
        if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, "segment");
        pb_reader sr = pb_reader_init(f.bytes, f.len);
        pb_field sf;
        pb_result sres;
        while ((sres = pb_next(&sr, &sf, &why)) == PB_FIELD) {
          if (sf.number == 1) OFX_TRY(read_i64(d, &sf, "segment.begin", &t->segment_begin));
          if (sf.number == 2) OFX_TRY(read_i64(d, &sf, "segment.end", &t->segment_end));
        }
        if (sres == PB_MALFORMED) return path(malformed(d, sr.pos, sf.number, why), "segment", -1);
        t->has_segment = true;
        break;
      }
      case 4: OFX_TRY(add_repeated(d, &f, "float_data", p, len, 4, PB_FIXED32, &t->float_data)); break;
      case 5: OFX_TRY(add_repeated(d, &f, "int32_data", p, len, 5, PB_VARINT, &t->int32_data)); break;
      case 6: {
        if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, "string_data");
        t->string_data[t->n_string_data].ptr = (const char *)f.bytes;
        t->string_data[t->n_string_data].len = f.len;
        t->n_string_data++;
        break;
      }
      case 7: OFX_TRY(add_repeated(d, &f, "int64_data", p, len, 7, PB_VARINT, &t->int64_data)); break;
      case 8: OFX_TRY(read_str(d, &f, "name", &t->name)); break;
      case 9:
        OFX_TRY(read_str(d, &f, "raw_data", &t->raw_data));
        t->has_raw_data = true;
        break;
      case 10: OFX_TRY(add_repeated(d, &f, "double_data", p, len, 10, PB_FIXED64, &t->double_data)); break;
      case 11: OFX_TRY(add_repeated(d, &f, "uint64_data", p, len, 11, PB_VARINT, &t->uint64_data)); break;
      case 12: OFX_TRY(read_str(d, &f, "doc_string", &t->doc_string)); break;
      case 13: DECODE_ELEMENT(decode_entry, "external_data", t->external_data, t->n_external_data); break;
      case 14: OFX_TRY(read_i32(d, &f, "data_location", &t->data_location)); break;
      case 16: DECODE_ELEMENT(decode_entry, "metadata_props", t->metadata, t->n_metadata); break;
    }
  }
  t->n_dims = dims.count;
  ofx_status s = repeated_to_i64_array(d, &dims, &t->dims);
  return s;
}

static ofx_status decode_sparse_tensor(decoder *d, const uint8_t *p, size_t len,
                                       onnx_sparse_tensor *t) {
  onnx_repeated dims = {0};
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    switch (f.number) {
      case 1: DECODE_CHILD(decode_tensor, "values", t->values); break;
      case 2: DECODE_CHILD(decode_tensor, "indices", t->indices); break;
      case 3: OFX_TRY(add_repeated(d, &f, "dims", p, len, 3, PB_VARINT, &dims)); break;
    }
  }
  if (res == PB_MALFORMED) return malformed(d, r.pos, f.number, why);
  t->n_dims = dims.count;
  return repeated_to_i64_array(d, &dims, &t->dims);
}

static ofx_status decode_graph(decoder *d, const uint8_t *p, size_t len, onnx_graph *g);

static ofx_status decode_attribute(decoder *d, const uint8_t *p, size_t len, onnx_attribute *a) {
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(a->strings, counts[9]);
  ALLOC_ARRAY(a->tensors, counts[10]);
  ALLOC_ARRAY(a->graphs, counts[11]);
  ALLOC_ARRAY(a->type_protos, counts[15]);
  ALLOC_ARRAY(a->sparse_tensors, counts[23]);
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: OFX_TRY(read_str(d, &f, "name", &a->name)); break;
      case 2:
        if (f.wire_type != PB_FIXED32) return wire_mismatch(d, &f, "f");
        a->f = pb_f32_from_bits((uint32_t)f.value);
        a->has_f = true;
        break;
      case 3:
        OFX_TRY(read_i64(d, &f, "i", &a->i));
        a->has_i = true;
        break;
      case 4:
        OFX_TRY(read_str(d, &f, "s", &a->s));
        a->has_s = true;
        break;
      case 5: DECODE_CHILD(decode_tensor, "t", a->t); break;
      case 6: DECODE_CHILD(decode_graph, "g", a->g); break;
      case 7: OFX_TRY(add_repeated(d, &f, "floats", p, len, 7, PB_FIXED32, &a->floats)); break;
      case 8: OFX_TRY(add_repeated(d, &f, "ints", p, len, 8, PB_VARINT, &a->ints)); break;
      case 9: {
        if (f.wire_type != PB_LEN) return wire_mismatch(d, &f, "strings");
        a->strings[a->n_strings].ptr = (const char *)f.bytes;
        a->strings[a->n_strings].len = f.len;
        a->n_strings++;
        break;
      }
      case 10: DECODE_ELEMENT(decode_tensor, "tensors", a->tensors, a->n_tensors); break;
      case 11: DECODE_ELEMENT(decode_graph, "graphs", a->graphs, a->n_graphs); break;
      case 13: OFX_TRY(read_str(d, &f, "doc_string", &a->doc_string)); break;
      case 14: DECODE_CHILD(decode_type, "tp", a->tp); break;
      case 15: DECODE_ELEMENT(decode_type, "type_protos", a->type_protos, a->n_type_protos); break;
      case 20: OFX_TRY(read_i32(d, &f, "type", &a->type)); break;
      case 21: OFX_TRY(read_str(d, &f, "ref_attr_name", &a->ref_attr_name)); break;
      case 22: DECODE_CHILD(decode_sparse_tensor, "sparse_tensor", a->sparse_tensor); break;
      case 23:
        DECODE_ELEMENT(decode_sparse_tensor, "sparse_tensors", a->sparse_tensors, a->n_sparse_tensors);
        break;
    }
  }
  return OFX_OK;
}

static ofx_status decode_node(decoder *d, const uint8_t *p, size_t len, onnx_node *n) {
  n->raw = (onnx_str){(const char *)p, len};
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(n->inputs, counts[1]);
  ALLOC_ARRAY(n->outputs, counts[2]);
  ALLOC_ARRAY(n->attributes, counts[5]);
  ALLOC_ARRAY(n->metadata, counts[9]);
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: OFX_TRY(read_str(d, &f, "input", &n->inputs[n->n_inputs++])); break;
      case 2: OFX_TRY(read_str(d, &f, "output", &n->outputs[n->n_outputs++])); break;
      case 3: OFX_TRY(read_str(d, &f, "name", &n->name)); break;
      case 4: OFX_TRY(read_str(d, &f, "op_type", &n->op_type)); break;
      case 5: DECODE_ELEMENT(decode_attribute, "attribute", n->attributes, n->n_attributes); break;
      case 6: OFX_TRY(read_str(d, &f, "doc_string", &n->doc_string)); break;
      case 7: OFX_TRY(read_str(d, &f, "domain", &n->domain)); break;
      case 8: OFX_TRY(read_str(d, &f, "overload", &n->overload)); break;
      case 9: DECODE_ELEMENT(decode_entry, "metadata_props", n->metadata, n->n_metadata); break;
    }
  }
  return OFX_OK;
}

static ofx_status decode_graph(decoder *d, const uint8_t *p, size_t len, onnx_graph *g) {
  CHECK_DEPTH();
  d->depth++;
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(g->nodes, counts[1]);
  ALLOC_ARRAY(g->initializers, counts[5]);
  ALLOC_ARRAY(g->inputs, counts[11]);
  ALLOC_ARRAY(g->outputs, counts[12]);
  ALLOC_ARRAY(g->value_infos, counts[13]);
  ALLOC_ARRAY(g->sparse_initializers, counts[15]);
  ALLOC_ARRAY(g->metadata, counts[16]);
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: DECODE_ELEMENT(decode_node, "node", g->nodes, g->n_nodes); break;
      case 2: OFX_TRY(read_str(d, &f, "name", &g->name)); break;
      case 5: DECODE_ELEMENT(decode_tensor, "initializer", g->initializers, g->n_initializers); break;
      case 10: OFX_TRY(read_str(d, &f, "doc_string", &g->doc_string)); break;
      case 11: DECODE_ELEMENT(decode_value_info, "input", g->inputs, g->n_inputs); break;
      case 12: DECODE_ELEMENT(decode_value_info, "output", g->outputs, g->n_outputs); break;
      case 13: DECODE_ELEMENT(decode_value_info, "value_info", g->value_infos, g->n_value_infos); break;
      case 15:
        DECODE_ELEMENT(decode_sparse_tensor, "sparse_initializer", g->sparse_initializers,
                       g->n_sparse_initializers);
        break;
      case 16: DECODE_ELEMENT(decode_entry, "metadata_props", g->metadata, g->n_metadata); break;
    }
  }
  d->depth--;
  return OFX_OK;
}

static ofx_status decode_opset(decoder *d, const uint8_t *p, size_t len, onnx_opset *o) {
  o->raw = (onnx_str){(const char *)p, len};
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  pb_result res;
  while ((res = pb_next(&r, &f, &why)) == PB_FIELD) {
    if (f.number == 1) OFX_TRY(read_str(d, &f, "domain", &o->domain));
    else if (f.number == 2) OFX_TRY(read_i64(d, &f, "version", &o->version));
  }
  return res == PB_MALFORMED ? malformed(d, r.pos, f.number, why) : OFX_OK;
}

static ofx_status decode_model(decoder *d, const uint8_t *p, size_t len, onnx_model *m) {
  size_t counts[FIELD_SLOTS] = {0};
  OFX_TRY(count_fields(d, p, len, counts));
  ALLOC_ARRAY(m->opsets, counts[8]);
  ALLOC_ARRAY(m->metadata, counts[14]);
  pb_reader r = pb_reader_init(p, len);
  pb_field f;
  const char *why;
  while (pb_next(&r, &f, &why) == PB_FIELD) {
    switch (f.number) {
      case 1: OFX_TRY(read_i64(d, &f, "ir_version", &m->ir_version)); break;
      case 2: OFX_TRY(read_str(d, &f, "producer_name", &m->producer_name)); break;
      case 3: OFX_TRY(read_str(d, &f, "producer_version", &m->producer_version)); break;
      case 4: OFX_TRY(read_str(d, &f, "domain", &m->domain)); break;
      case 5: OFX_TRY(read_i64(d, &f, "model_version", &m->model_version)); break;
      case 6: OFX_TRY(read_str(d, &f, "doc_string", &m->doc_string)); break;
      case 7: DECODE_CHILD(decode_graph, "graph", m->graph); break;
      case 8: DECODE_ELEMENT(decode_opset, "opset_import", m->opsets, m->n_opsets); break;
      case 14: DECODE_ELEMENT(decode_entry, "metadata_props", m->metadata, m->n_metadata); break;
    }
  }
  return OFX_OK;
}

/* ---- load errors a person can act on -----------------------------------------------------
 * Protobuf paths mean nothing to someone who opened a JPEG or a half-downloaded file: say what
 * the bytes look like, or where the file was cut. */

static bool starts_with(const uint8_t *b, size_t size, const char *magic, size_t n) {
  return size >= n && memcmp(b, magic, n) == 0;
}

/* What a file that is no ONNX model looks like, from its first bytes; NULL when unsure. No
 * ModelProto starts with these bytes (their wire types are invalid as a first key). */
static const char *sniff_other_format(const uint8_t *b, size_t size) {
  if (starts_with(b, size, "\xff\xd8\xff", 3)) return "a JPEG image";
  if (starts_with(b, size, "\x89PNG", 4)) return "a PNG image";
  if (starts_with(b, size, "GIF8", 4)) return "a GIF image";
  if (starts_with(b, size, "RIFF", 4)) return "a RIFF file (WebP, WAV, ...)";
  if (starts_with(b, size, "PK\x03\x04", 4)) return "a zip archive; a PyTorch .pt/.pth checkpoint is one: export it with torch.onnx.export";
  if (starts_with(b, size, "\x1f\x8b", 2)) return "a gzip file: decompress it first";
  if (starts_with(b, size, "\x89HDF", 4)) return "an HDF5 file, as Keras saves models";
  size_t i = 0;
  while (i < size && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')) i++;
  if (i < size && b[i] == '<') {
    static const char *html[] = {"<!doctype html", "<html", "<head", "<body", "<!--"};
    for (size_t k = 0; k < sizeof html / sizeof html[0]; k++) {
      size_t n = strlen(html[k]);
      if (size - i >= n) {
        size_t j = 0;
        while (j < n && (b[i + j] | 0x20) == (html[k][j] | 0x20)) j++;
        if (j == n) return "an HTML page: an error or download page instead of the model?";
      }
    }
    return "XML or HTML text";
  }
  if (i < size && (b[i] == '{' || b[i] == '[')) return "JSON or other text";
  return NULL;
}

/* Text: the first bytes are printable ASCII or UTF-8 (a ModelProto starts with binary keys). */
static bool looks_like_text(const uint8_t *b, size_t size) {
  size_t n = size < 256 ? size : 256;
  if (n < 4) return false;
  for (size_t i = 0; i < n; i++)
    if (b[i] < 0x20 && b[i] != '\t' && b[i] != '\n' && b[i] != '\r') return false;
  return true;
}

enum { M_OTHER, M_MODEL, M_GRAPH, M_NODE, M_TENSOR, M_ATTRIBUTE, M_VALUE_INFO, M_OPSET };

/* The name of field `number` in a message of kind `kind`, and the kind of its value. */
static const char *field_name(int kind, uint32_t number, int *child) {
  *child = M_OTHER;
  switch (kind) {
    case M_MODEL:
      if (number == 7) return *child = M_GRAPH, "graph";
      if (number == 8) return *child = M_OPSET, "opset_import";
      if (number == 6) return "doc_string";
      if (number == 14) return "metadata_props";
      break;
    case M_GRAPH:
      if (number == 1) return *child = M_NODE, "node";
      if (number == 5) return *child = M_TENSOR, "initializer";
      if (number == 11) return *child = M_VALUE_INFO, "input";
      if (number == 12) return *child = M_VALUE_INFO, "output";
      if (number == 13) return *child = M_VALUE_INFO, "value_info";
      if (number == 2) return "name";
      break;
    case M_NODE:
      if (number == 5) return *child = M_ATTRIBUTE, "attribute";
      if (number == 1) return "input";
      if (number == 2) return "output";
      if (number == 3) return "name";
      break;
    case M_ATTRIBUTE:
      if (number == 5) return *child = M_TENSOR, "t";
      if (number == 6) return *child = M_GRAPH, "g";
      if (number == 10) return *child = M_TENSOR, "tensors";
      if (number == 11) return *child = M_GRAPH, "graphs";
      break;
    case M_TENSOR:
      if (number == 9) return "raw_data";
      if (number == 4) return "float_data";
      if (number == 7) return "int64_data";
      if (number == 8) return "name";
      break;
  }
  return NULL;
}

/* The string field `want` of a message cut at `end`, if it comes before the cut. */
static bool string_field(const uint8_t *p, const uint8_t *end, uint32_t want, const uint8_t **s, size_t *len) {
  uint64_t key, v;
  while (p < end && pb_read_varint(&p, end, &key)) {
    uint32_t wire = (uint32_t)(key & 7);
    if (wire == PB_VARINT) {
      if (!pb_read_varint(&p, end, &v)) return false;
    } else if (wire == PB_FIXED64 || wire == PB_FIXED32) {
      p += wire == PB_FIXED64 ? 8 : 4;
    } else if (wire == PB_LEN) {
      if (!pb_read_varint(&p, end, &v) || v > (uint64_t)(end - p)) return false;
      if ((key >> 3) == want) {
        *s = p;
        *len = (size_t)v;
        return true;
      }
      p += v;
    } else {
      return false;
    }
  }
  return false;
}

/* When the file ends inside a field (a download or copy cut short), sets the error to say
 * where: "truncated: the file ends at byte N inside graph.initializer[3] ('fc.weight').raw_data
 * (M more bytes expected)" and returns true; false when the bytes are broken some other way. */
static bool explain_truncation(const uint8_t *base, size_t size) {
  char where[256] = "";
  size_t used = 0;
  const uint8_t *p = base, *end = base + size;
  int kind = M_MODEL;
  unsigned long long missing = 0;
  bool cut = false;
  for (int depth = 0; depth < 24; depth++) {
    size_t seen[32] = {0};
    bool inner = false;
    while (p < end) {
      uint64_t key, value;
      if (!pb_read_varint(&p, end, &key)) {
        cut = p >= end || cut;
        break;
      }
      uint32_t number = (uint32_t)(key >> 3), wire = (uint32_t)(key & 7);
      if (number == 0) break;
      if (wire == PB_VARINT) {
        const uint8_t *q = p;
        if (!pb_read_varint(&q, end, &value)) {
          cut = (size_t)(end - p) < 10;
          break;
        }
        p = q;
      } else if (wire == PB_FIXED64 || wire == PB_FIXED32) {
        size_t n = wire == PB_FIXED64 ? 8 : 4;
        if ((size_t)(end - p) < n) {
          cut = true;
          missing = n - (size_t)(end - p);
          break;
        }
        p += n;
      } else if (wire == PB_LEN) {
        const uint8_t *q = p;
        if (!pb_read_varint(&q, end, &value)) {
          cut = (size_t)(end - p) < 10;
          break;
        }
        p = q;
        if (value <= (uint64_t)(end - p)) {
          if (number < 32) seen[number]++;
          p += value;
          continue;
        }
        /* this field runs past the end of the file: the cut is inside it */
        cut = true;
        missing = (unsigned long long)(value - (uint64_t)(end - p));
        int child;
        const char *name = field_name(kind, number, &child);
        int w;
        bool repeated = !(kind == M_MODEL && number == 7) && !(kind == M_ATTRIBUTE && (number == 5 || number == 6));
        if (name && child != M_OTHER && repeated)
          w = snprintf(where + used, sizeof where - used, "%s%s[%zu]", used ? "." : "", name, number < 32 ? seen[number] : 0);
        else if (name)
          w = snprintf(where + used, sizeof where - used, "%s%s", used ? "." : "", name);
        else
          w = snprintf(where + used, sizeof where - used, "%sfield %u", used ? "." : "", number);
        if (w > 0) used = (size_t)w + used < sizeof where ? used + (size_t)w : sizeof where - 1;
        const uint8_t *s;
        size_t len;
        if ((child == M_TENSOR || child == M_NODE) && string_field(p, end, child == M_TENSOR ? 8 : 3, &s, &len) && len > 0) {
          w = snprintf(where + used, sizeof where - used, " ('%.*s')", (int)(len < 60 ? len : 60), (const char *)s);
          if (w > 0) used = (size_t)w + used < sizeof where ? used + (size_t)w : sizeof where - 1;
        }
        if (child != M_OTHER) {
          kind = child;
          inner = true;
        }
        break;
      } else {
        break; /* not protobuf from here: not a clean cut */
      }
    }
    if (!inner) break;
  }
  if (!cut) return false;
  if (used == 0)
    ofx_error(OFX_BAD_MODEL, "truncated: the file ends at byte offset %zu, inside a field's header (a download or copy cut short?)", size);
  else if (missing)
    ofx_error(OFX_BAD_MODEL, "truncated: the file ends at byte offset %zu inside %s, %llu more bytes expected (a download or copy cut short?)",
              size, where, missing);
  else
    ofx_error(OFX_BAD_MODEL, "truncated: the file ends at byte offset %zu inside %s (a download or copy cut short?)", size, where);
  return true;
}

ofx_status onnx_model_decode(const uint8_t *bytes, size_t size, ofx_arena *arena,
                             onnx_model **out) {
  decoder d = {arena, bytes, 0};
  const char *other = sniff_other_format(bytes, size);
  if (other) return ofx_error(OFX_BAD_MODEL, "not an ONNX model: it looks like %s", other);
  onnx_model *m = ofx_arena_alloc(arena, 1, sizeof *m);
  if (m == NULL) return out_of_memory();
  ofx_status s = decode_model(&d, bytes, size, m);
  if (s != OFX_OK) {
    if (s == OFX_BAD_MODEL && looks_like_text(bytes, size))
      return ofx_error(OFX_BAD_MODEL, "not an ONNX model: it looks like text");
    if (s == OFX_BAD_MODEL && explain_truncation(bytes, size)) return ofx_error_prefix(s, "invalid ONNX model: ");
    const char *rest = ofx_last_error();
    return ofx_error_prefix(s, "invalid ONNX model%s", rest[0] == ':' ? "" : ": ");
  }
  *out = m;
  return OFX_OK;
}

ofx_status onnx_tensor_decode(const uint8_t *bytes, size_t size, ofx_arena *arena,
                              onnx_tensor **out) {
  decoder d = {arena, bytes, 0};
  onnx_tensor *t = ofx_arena_alloc(arena, 1, sizeof *t);
  if (t == NULL) return out_of_memory();
  ofx_status s = decode_tensor(&d, bytes, size, t);
  if (s != OFX_OK) return ofx_error_prefix(s, "invalid TensorProto%s", ofx_last_error()[0] == ':' ? "" : ": ");
  *out = t;
  return OFX_OK;
}

/* Walks every occurrence of r->field in its message and hands each element's raw value to
 * `emit`: packed and unpacked encodings may even be mixed. */
#define FOR_EACH_REPEATED(r, elem_value, body)                                            \
  do {                                                                                    \
    if ((r)->count == 0) break; /* an absent field has no message to walk (msg is NULL) */ \
    pb_reader rr_ = pb_reader_init((r)->msg, (size_t)((r)->msg_end - (r)->msg));          \
    pb_field f_;                                                                          \
    const char *why_;                                                                     \
    size_t n_ = 0;                                                                        \
    while (n_ < (r)->count && pb_next(&rr_, &f_, &why_) == PB_FIELD) {                    \
      if (f_.number != (r)->field) continue;                                              \
      if (f_.wire_type == (r)->elem_wire_type) {                                          \
        uint64_t elem_value = f_.value;                                                   \
        body;                                                                             \
        n_++;                                                                             \
      } else if (f_.wire_type == PB_LEN) {                                                \
        const uint8_t *q_ = f_.bytes, *qend_ = f_.bytes + f_.len;                         \
        while (q_ < qend_ && n_ < (r)->count) {                                           \
          uint64_t elem_value = 0;                                                        \
          if ((r)->elem_wire_type == PB_VARINT) {                                         \
            if (!pb_read_varint(&q_, qend_, &elem_value)) break;                          \
          } else {                                                                        \
            unsigned w_ = (r)->elem_wire_type == PB_FIXED32 ? 4 : 8;                      \
            for (unsigned b_ = 0; b_ < w_; b_++) elem_value |= (uint64_t)q_[b_] << (8 * b_); \
            q_ += w_;                                                                     \
          }                                                                               \
          body;                                                                           \
          n_++;                                                                           \
        }                                                                                 \
      }                                                                                   \
    }                                                                                     \
  } while (0)

void onnx_repeated_read_i64(const onnx_repeated *r, int64_t *out) {
  size_t i = 0;
  FOR_EACH_REPEATED(r, v, out[i++] = r->sign_extend_32 ? (int64_t)(int32_t)(uint32_t)v : (int64_t)v);
}

void onnx_repeated_read_u64(const onnx_repeated *r, uint64_t *out) {
  size_t i = 0;
  FOR_EACH_REPEATED(r, v, out[i++] = v);
}

void onnx_repeated_read_f32(const onnx_repeated *r, float *out) {
  size_t i = 0;
  FOR_EACH_REPEATED(r, v, out[i++] = pb_f32_from_bits((uint32_t)v));
}

void onnx_repeated_read_f64(const onnx_repeated *r, double *out) {
  size_t i = 0;
  FOR_EACH_REPEATED(r, v, out[i++] = pb_f64_from_bits(v));
}

size_t onnx_dtype_size(int32_t data_type) {
  switch (data_type) {
    case 1: case 6: case 12: return 4;                 /* float, int32, uint32 */
    case 2: case 3: case 9: return 1;                  /* uint8, int8, bool */
    case 17: case 18: case 19: case 20: return 1;      /* float8 variants */
    case 4: case 5: case 10: case 16: return 2;        /* uint16, int16, float16, bfloat16 */
    case 7: case 11: case 13: case 14: return 8;       /* int64, double, uint64, complex64 */
    case 15: return 16;                                /* complex128 */
    default: return 0;                                 /* string, 4-bit types, unknown */
  }
}

const char *onnx_dtype_name(int32_t data_type) {
  static const char *const names[] = {
      "undefined", "float32", "uint8", "int8", "uint16", "int16", "int32", "int64",
      "string", "bool", "float16", "float64", "uint32", "uint64", "complex64", "complex128",
      "bfloat16", "float8e4m3fn", "float8e4m3fnuz", "float8e5m2", "float8e5m2fnuz", "uint4",
      "int4", "float4e2m1"};
  if (data_type >= 0 && (size_t)data_type < sizeof names / sizeof names[0]) return names[data_type];
  return "unknown";
}

bool onnx_str_eq(onnx_str s, const char *c) {
  size_t n = strlen(c);
  return s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}
