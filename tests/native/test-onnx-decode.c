/* Oracle test for the zero-copy ONNX reader (src/onnx). Every model is decoded twice, by
 * onnx_model_decode and by protobuf-c (C code generated at build time from Debian's
 * /usr/include/onnx/onnx.proto), and the two results must agree field by field, recursively.
 * On top of that: every string/bytes view must point into the input buffer (zero-copy), truncated
 * copies of real models must agree with protobuf-c on failure and never crash, and a set of
 * hand-built malformed or unusual encodings checks statuses and error messages.
 *
 * Usage: test-onnx-decode [--tree DIR NAME]... [--dir DIR]...
 *   --tree DIR NAME  every file called NAME anywhere under DIR (e.g. libonnx-testdata model.onnx)
 *   --dir DIR        every *.onnx file directly in DIR (the exported torchvision models)
 * A directory that does not exist or holds no model is a failure, never a silent skip.
 *
 * Each model adds one CHECK (both decoders agree on success and on every field); each field that
 * differs is printed as "MISMATCH <file>: <field path>: ours ..., protobuf-c ...". */
#define _GNU_SOURCE
#include <dirent.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/arena.h"
#include "base/status.h"
#include "onnx/onnx.h"
#include "onnx/onnx.pb-c.h"
#include "test-util.h"

#define MAX_REPORTS_PER_MODEL 30
/* Truncating at every offset is done only for small models (protobuf-c and we each decode every
 * prefix), chosen to cover as many features (attribute kinds, type kinds, tensor storage) as
 * possible. */
#define TRUNCATE_ALL_MAX_SIZE (24 * 1024)
#define TRUNCATE_ALL_MAX_MODELS 24

/* ---------------------------------------------------------------------------------------------
 * Features seen while comparing, for the coverage summary and for picking truncation models. */
enum {
  FEAT_ATTR = 0,              /* + attribute type (0..14) */
  FEAT_TYPE = 16,             /* + TypeProto kind (0..9) */
  FEAT_RAW = 26,
  FEAT_FLOAT_DATA,
  FEAT_INT32_DATA,
  FEAT_INT64_DATA,
  FEAT_STRING_DATA,
  FEAT_DOUBLE_DATA,
  FEAT_UINT64_DATA,
  FEAT_EXTERNAL,
  FEAT_SEGMENT,
  FEAT_SPARSE,
  FEAT_DIM_PARAM,
  FEAT_DENOTATION,
  FEAT_METADATA,
  FEAT_DOC,
  FEAT_REF_ATTR,
  FEAT_COUNT
};
static const char *feature_name(int f) {
  static char buf[32];
  static const char *attr[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH",
                               "FLOATS", "INTS", "STRINGS", "TENSORS", "GRAPHS",
                               "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
  static const char *other[] = {"raw_data", "float_data", "int32_data", "int64_data",
                                "string_data", "double_data", "uint64_data", "external_data",
                                "segment", "sparse tensor", "dim_param", "denotation",
                                "metadata_props", "doc_string", "ref_attr_name"};
  if (f < FEAT_TYPE) {
    snprintf(buf, sizeof buf, "attr %s", f - FEAT_ATTR < 15 ? attr[f - FEAT_ATTR] : "?");
  } else if (f < FEAT_RAW) {
    static const char *kinds[] = {"none", "tensor", "?", "?", "sequence", "map", "?", "?",
                                  "sparse_tensor", "optional"};
    snprintf(buf, sizeof buf, "type %s", kinds[f - FEAT_TYPE]);
  } else {
    snprintf(buf, sizeof buf, "%s", other[f - FEAT_RAW]);
  }
  return buf;
}

/* Slots of the enum that name no feature: attribute type 15, TypeProto field numbers 2, 3, 6, 7. */
static bool feature_exists(int f) {
  if (f == FEAT_ATTR + 15) return false;
  int k = f - FEAT_TYPE;
  return !(f >= FEAT_TYPE && f < FEAT_RAW && (k == 2 || k == 3 || k == 6 || k == 7));
}

static size_t feature_models[FEAT_COUNT]; /* models in which each feature occurs */
static size_t leaves_compared;

/* ---------------------------------------------------------------------------------------------
 * Comparison context: the field path being compared and the mismatches found so far. */
typedef struct cmp {
  const char *file;
  const uint8_t *buf;
  size_t size;
  bool quiet; /* truncation sweeps: count mismatches, print none */
  char path[2048];
  size_t len;
  size_t mismatches;
  uint64_t features;
} cmp;

static void feature(cmp *c, int f) { c->features |= (uint64_t)1 << f; }

static size_t enter(cmp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static size_t enter(cmp *c, const char *fmt, ...) {
  size_t mark = c->len;
  if (c->len > 0 && c->len < sizeof c->path - 1) c->path[c->len++] = '.';
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(c->path + c->len, sizeof c->path - c->len, fmt, args);
  va_end(args);
  if (n > 0) c->len += (size_t)n;
  if (c->len > sizeof c->path - 1) c->len = sizeof c->path - 1;
  c->path[c->len] = '\0';
  return mark;
}

static void leave(cmp *c, size_t mark) {
  c->len = mark;
  c->path[mark] = '\0';
}

static void mismatch(cmp *c, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void mismatch(cmp *c, const char *field, const char *fmt, ...) {
  c->mismatches++;
  if (c->quiet) return;
  if (c->mismatches > MAX_REPORTS_PER_MODEL) {
    if (c->mismatches == MAX_REPORTS_PER_MODEL + 1)
      fprintf(stderr, "MISMATCH %s: (further mismatches not shown)\n", c->file);
    return;
  }
  bool has_field = field != NULL && field[0] != '\0';
  fprintf(stderr, "MISMATCH %s: %s%s%s: ", c->file, c->len ? c->path : (has_field ? "" : "<model>"),
          c->len && has_field ? "." : "", has_field ? field : "");
  va_list args;
  va_start(args, fmt);
  vfprintf(stderr, fmt, args);
  va_end(args);
  fputc('\n', stderr);
}

/* Quotes up to 48 bytes of p for messages. */
static const char *quote(char *out, size_t cap, const void *p, size_t n) {
  const unsigned char *s = p;
  size_t o = 0;
  out[o++] = '"';
  for (size_t i = 0; i < n && i < 48 && o + 6 < cap; i++) {
    if (s[i] >= 0x20 && s[i] < 0x7F && s[i] != '"' && s[i] != '\\') {
      out[o++] = (char)s[i];
    } else {
      o += (size_t)snprintf(out + o, cap - o, "\\x%02x", s[i]);
    }
  }
  if (n > 48 && o + 4 < cap) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  if (o + 1 < cap) out[o++] = '"';
  out[o < cap ? o : cap - 1] = '\0';
  return out;
}

static bool in_buffer(const cmp *c, const void *p, size_t n) {
  const uint8_t *q = p;
  return q >= c->buf && n <= c->size && (size_t)(q - c->buf) <= c->size - n;
}

/* Bytes and strings: equal content, and (zero-copy) our view lies inside the model buffer. */
static void cmp_bytes(cmp *c, const char *field, onnx_str ours, const void *theirs,
                      size_t theirs_len) {
  leaves_compared++;
  if (ours.len != theirs_len || (ours.len > 0 && memcmp(ours.ptr, theirs, ours.len) != 0)) {
    char a[256], b[256];
    mismatch(c, field, "ours %s (%zu bytes), protobuf-c %s (%zu bytes)",
             quote(a, sizeof a, ours.ptr, ours.len), ours.len, quote(b, sizeof b, theirs, theirs_len),
             theirs_len);
  } else if (ours.len > 0 && !in_buffer(c, ours.ptr, ours.len)) {
    mismatch(c, field, "our view (%zu bytes) does not point into the model buffer", ours.len);
  }
}

static void cmp_str(cmp *c, const char *field, onnx_str ours, const char *theirs) {
  cmp_bytes(c, field, ours, theirs ? theirs : "", theirs ? strlen(theirs) : 0);
}

static void cmp_bin(cmp *c, const char *field, onnx_str ours, ProtobufCBinaryData theirs) {
  cmp_bytes(c, field, ours, theirs.data, theirs.len);
}

static void cmp_i64(cmp *c, const char *field, int64_t ours, int64_t theirs) {
  leaves_compared++;
  if (ours != theirs)
    mismatch(c, field, "ours %lld, protobuf-c %lld", (long long)ours, (long long)theirs);
}

static void cmp_bool(cmp *c, const char *field, bool ours, bool theirs) {
  leaves_compared++;
  if (ours != theirs)
    mismatch(c, field, "ours %s, protobuf-c %s", ours ? "present" : "absent",
             theirs ? "present" : "absent");
}

/* Floats are compared bit for bit (NaN payloads, -0). */
static void cmp_f32(cmp *c, const char *field, float ours, float theirs) {
  leaves_compared++;
  if (memcmp(&ours, &theirs, sizeof ours) != 0)
    mismatch(c, field, "ours %.9g, protobuf-c %.9g", (double)ours, (double)theirs);
}

static bool cmp_count(cmp *c, const char *field, size_t ours, size_t theirs) {
  leaves_compared++;
  if (ours == theirs) return true;
  mismatch(c, field, "ours %zu elements, protobuf-c %zu", ours, theirs);
  return false;
}

static bool cmp_present(cmp *c, const char *field, bool ours, bool theirs) {
  cmp_bool(c, field, ours, theirs);
  return ours && theirs;
}

/* Repeated scalars are read through our onnx_repeated readers into a buffer pre-filled with a
 * pattern, so a reader that writes too few elements shows up (and too many, under ASan). */
static void *read_buffer(size_t count, size_t elem) {
  void *p = malloc(count ? count * elem : 1);
  if (p == NULL) abort();
  memset(p, 0xA5, count ? count * elem : 1);
  return p;
}

#define CMP_ELEMENTS(c, field, n, ours_i, theirs_i, fmt, ...)                              \
  do {                                                                                     \
    for (size_t i_ = 0; i_ < (n); i_++) {                                                  \
      leaves_compared++;                                                                   \
      size_t i = i_;                                                                       \
      if (!(ours_i == theirs_i)) {                                                         \
        char name_[96];                                                                    \
        snprintf(name_, sizeof name_, "%s[%zu]", field, i);                                \
        mismatch(c, name_, fmt, __VA_ARGS__);                                              \
      }                                                                                    \
    }                                                                                      \
  } while (0)

static void cmp_i64_array(cmp *c, const char *field, const int64_t *ours, size_t n_ours,
                          const int64_t *theirs, size_t n_theirs) {
  if (!cmp_count(c, field, n_ours, n_theirs)) return;
  CMP_ELEMENTS(c, field, n_ours, ours[i], theirs[i], "ours %lld, protobuf-c %lld",
               (long long)ours[i], (long long)theirs[i]);
}

static void cmp_rep_i64(cmp *c, const char *field, const onnx_repeated *r, const int64_t *theirs,
                        size_t n) {
  if (!cmp_count(c, field, r->count, n)) return;
  int64_t *v = read_buffer(r->count, sizeof *v);
  onnx_repeated_read_i64(r, v);
  CMP_ELEMENTS(c, field, n, v[i], theirs[i], "ours %lld, protobuf-c %lld", (long long)v[i],
               (long long)theirs[i]);
  free(v);
}

static void cmp_rep_i32(cmp *c, const char *field, const onnx_repeated *r, const int32_t *theirs,
                        size_t n) {
  if (!cmp_count(c, field, r->count, n)) return;
  int64_t *v = read_buffer(r->count, sizeof *v);
  onnx_repeated_read_i64(r, v);
  CMP_ELEMENTS(c, field, n, v[i], (int64_t)theirs[i], "ours %lld, protobuf-c %d",
               (long long)v[i], theirs[i]);
  free(v);
}

static void cmp_rep_u64(cmp *c, const char *field, const onnx_repeated *r, const uint64_t *theirs,
                        size_t n) {
  if (!cmp_count(c, field, r->count, n)) return;
  uint64_t *v = read_buffer(r->count, sizeof *v);
  onnx_repeated_read_u64(r, v);
  CMP_ELEMENTS(c, field, n, v[i], theirs[i], "ours %llu, protobuf-c %llu",
               (unsigned long long)v[i], (unsigned long long)theirs[i]);
  free(v);
}

static void cmp_rep_f32(cmp *c, const char *field, const onnx_repeated *r, const float *theirs,
                        size_t n) {
  if (!cmp_count(c, field, r->count, n)) return;
  float *v = read_buffer(r->count, sizeof *v);
  onnx_repeated_read_f32(r, v);
  CMP_ELEMENTS(c, field, n, memcmp(&v[i], &theirs[i], sizeof *v), 0,
               "ours %.9g, protobuf-c %.9g", (double)v[i], (double)theirs[i]);
  free(v);
}

static void cmp_rep_f64(cmp *c, const char *field, const onnx_repeated *r, const double *theirs,
                        size_t n) {
  if (!cmp_count(c, field, r->count, n)) return;
  double *v = read_buffer(r->count, sizeof *v);
  onnx_repeated_read_f64(r, v);
  CMP_ELEMENTS(c, field, n, memcmp(&v[i], &theirs[i], sizeof *v), 0,
               "ours %.17g, protobuf-c %.17g", v[i], theirs[i]);
  free(v);
}

/* Repeated message/string fields: counts first, then each element under "<label>[i]". The body
 * is variadic so that it may contain commas. */
#define EACH(c, label, n_ours, n_theirs, ...)                                \
  do {                                                                       \
    if (cmp_count(c, label, n_ours, n_theirs)) {                             \
      for (size_t i = 0; i < (size_t)(n_ours); i++) {                        \
        size_t mark_ = enter(c, "%s[%zu]", label, i);                        \
        __VA_ARGS__;                                                         \
        leave(c, mark_);                                                     \
      }                                                                      \
    }                                                                        \
  } while (0)

/* Optional message fields: presence, then the message under "<label>". */
#define CHILD(c, label, ours_present, theirs_present, ...)                   \
  do {                                                                       \
    if (cmp_present(c, label, (ours_present), (theirs_present))) {           \
      size_t mark_ = enter(c, "%s", label);                                  \
      __VA_ARGS__;                                                           \
      leave(c, mark_);                                                       \
    }                                                                        \
  } while (0)

/* ---------------------------------------------------------------------------------------------
 * Fields that Debian's onnx.proto (ONNX 1.12) does not have yet but our reader decodes
 * (NodeProto.overload = 8, NodeProto/GraphProto/TensorProto/ValueInfoProto.metadata_props) end
 * up in protobuf-c's unknown fields; those are compared too. protobuf-c keeps the length prefix
 * of a length-delimited unknown field in `data`. */
static bool unknown_payload(const ProtobufCMessageUnknownField *u, const uint8_t **data,
                            size_t *len) {
  if (u->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) return false;
  uint64_t v = 0;
  size_t i = 0;
  for (unsigned shift = 0; i < u->len && shift < 64; shift += 7) {
    uint8_t b = u->data[i++];
    v |= (uint64_t)(b & 0x7F) << shift;
    if (!(b & 0x80)) {
      if (v != u->len - i) return false;
      *data = u->data + i;
      *len = (size_t)v;
      return true;
    }
  }
  return false;
}

static size_t unknown_count(const ProtobufCMessage *m, uint32_t tag) {
  size_t n = 0;
  for (unsigned i = 0; i < m->n_unknown_fields; i++) n += m->unknown_fields[i].tag == tag;
  return n;
}

static const ProtobufCMessageUnknownField *unknown_at(const ProtobufCMessage *m, uint32_t tag,
                                                      size_t index) {
  for (unsigned i = 0; i < m->n_unknown_fields; i++) {
    if (m->unknown_fields[i].tag == tag && index-- == 0) return &m->unknown_fields[i];
  }
  return NULL;
}

static void cmp_entry(cmp *c, const onnx_string_entry *o, const Onnx__StringStringEntryProto *t) {
  cmp_str(c, "key", o->key, t->key);
  cmp_str(c, "value", o->value, t->value);
}

static void cmp_entries(cmp *c, const char *label, const onnx_string_entry *o, size_t n_o,
                        Onnx__StringStringEntryProto *const *t, size_t n_t) {
  if (n_o > 0) feature(c, FEAT_METADATA);
  EACH(c, label, n_o, n_t, cmp_entry(c, &o[i], t[i]));
}

static void cmp_unknown_entries(cmp *c, const char *label, const onnx_string_entry *o, size_t n_o,
                                const ProtobufCMessage *m, uint32_t tag) {
  if (n_o > 0) feature(c, FEAT_METADATA);
  EACH(c, label, n_o, unknown_count(m, tag), {
    const uint8_t *data;
    size_t len;
    Onnx__StringStringEntryProto *e = NULL;
    if (unknown_payload(unknown_at(m, tag, i), &data, &len))
      e = onnx__string_string_entry_proto__unpack(NULL, len, data);
    if (e == NULL) {
      mismatch(c, NULL, "protobuf-c cannot read this unknown field as StringStringEntryProto");
    } else {
      cmp_entry(c, &o[i], e);
      onnx__string_string_entry_proto__free_unpacked(e, NULL);
    }
  });
}

/* A singular unknown string field: the last occurrence wins. */
static void cmp_unknown_str(cmp *c, const char *label, onnx_str o, const ProtobufCMessage *m,
                            uint32_t tag) {
  size_t n = unknown_count(m, tag);
  const uint8_t *data = (const uint8_t *)"";
  size_t len = 0;
  if (n > 0 && !unknown_payload(unknown_at(m, tag, n - 1), &data, &len)) {
    mismatch(c, label, "protobuf-c unknown field %u is not length-delimited", tag);
    return;
  }
  cmp_bytes(c, label, o, data, len);
}

/* ---------------------------------------------------------------------------------------------
 * Messages. */
static void cmp_graph(cmp *c, const onnx_graph *o, const Onnx__GraphProto *t);
static void cmp_type(cmp *c, const onnx_type *o, const Onnx__TypeProto *t);

static void cmp_tensor(cmp *c, const onnx_tensor *o, const Onnx__TensorProto *t) {
  cmp_str(c, "name", o->name, t->name);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  cmp_i64_array(c, "dims", o->dims, o->n_dims, t->dims, t->n_dims);
  cmp_i64(c, "data_type", o->data_type, t->data_type);
  CHILD(c, "segment", o->has_segment, t->segment != NULL, {
    feature(c, FEAT_SEGMENT);
    cmp_i64(c, "begin", o->segment_begin, t->segment->begin);
    cmp_i64(c, "end", o->segment_end, t->segment->end);
  });
  cmp_rep_f32(c, "float_data", &o->float_data, t->float_data, t->n_float_data);
  cmp_rep_i32(c, "int32_data", &o->int32_data, t->int32_data, t->n_int32_data);
  EACH(c, "string_data", o->n_string_data, t->n_string_data,
       cmp_bin(c, NULL, o->string_data[i], t->string_data[i]));
  cmp_rep_i64(c, "int64_data", &o->int64_data, t->int64_data, t->n_int64_data);
  cmp_bool(c, "raw_data", o->has_raw_data, t->has_raw_data);
  cmp_bin(c, "raw_data", o->raw_data, t->raw_data); /* also checks it points into the buffer */
  cmp_rep_f64(c, "double_data", &o->double_data, t->double_data, t->n_double_data);
  cmp_rep_u64(c, "uint64_data", &o->uint64_data, t->uint64_data, t->n_uint64_data);
  cmp_entries(c, "external_data", o->external_data, o->n_external_data, t->external_data,
              t->n_external_data);
  cmp_i64(c, "data_location", o->data_location, t->data_location);
  cmp_unknown_entries(c, "metadata_props", o->metadata, o->n_metadata, &t->base, 16);

  if (o->has_raw_data) feature(c, FEAT_RAW);
  if (o->float_data.count) feature(c, FEAT_FLOAT_DATA);
  if (o->int32_data.count) feature(c, FEAT_INT32_DATA);
  if (o->int64_data.count) feature(c, FEAT_INT64_DATA);
  if (o->n_string_data) feature(c, FEAT_STRING_DATA);
  if (o->double_data.count) feature(c, FEAT_DOUBLE_DATA);
  if (o->uint64_data.count) feature(c, FEAT_UINT64_DATA);
  if (o->n_external_data) feature(c, FEAT_EXTERNAL);
  if (o->doc_string.len) feature(c, FEAT_DOC);
}

static void cmp_sparse(cmp *c, const onnx_sparse_tensor *o, const Onnx__SparseTensorProto *t) {
  feature(c, FEAT_SPARSE);
  CHILD(c, "values", o->values != NULL, t->values != NULL, cmp_tensor(c, o->values, t->values));
  CHILD(c, "indices", o->indices != NULL, t->indices != NULL,
        cmp_tensor(c, o->indices, t->indices));
  cmp_i64_array(c, "dims", o->dims, o->n_dims, t->dims, t->n_dims);
}

static void cmp_tensor_type(cmp *c, const onnx_type *o, int32_t elem_type,
                            const Onnx__TensorShapeProto *shape) {
  cmp_i64(c, "elem_type", o->elem_type, elem_type);
  CHILD(c, "shape", o->has_shape, shape != NULL, {
    EACH(c, "dim", o->rank, shape->n_dim, {
      const onnx_dim *od = &o->dims[i];
      const Onnx__TensorShapeProto__Dimension *td = shape->dim[i];
      bool value = td->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
      bool param = td->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
      if (cmp_present(c, "dim_value", od->has_value, value))
        cmp_i64(c, "dim_value", od->value, td->dim_value);
      if (cmp_present(c, "dim_param", od->has_param, param))
        cmp_str(c, "dim_param", od->param, td->dim_param);
      cmp_str(c, "denotation", od->denotation, td->denotation);
      if (od->has_param) feature(c, FEAT_DIM_PARAM);
      if (od->denotation.len) feature(c, FEAT_DENOTATION);
    });
  });
}

static void cmp_type(cmp *c, const onnx_type *o, const Onnx__TypeProto *t) {
  cmp_str(c, "denotation", o->denotation, t->denotation);
  if (o->denotation.len) feature(c, FEAT_DENOTATION);
  cmp_i64(c, "value_case", o->kind, (int64_t)t->value_case);
  if (o->kind != (int)t->value_case) return;
  if (o->kind >= 0 && o->kind <= 9) feature(c, FEAT_TYPE + o->kind);
  switch (t->value_case) {
    case ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE: {
      size_t mark = enter(c, "tensor_type");
      cmp_tensor_type(c, o, t->tensor_type->elem_type, t->tensor_type->shape);
      leave(c, mark);
      break;
    }
    case ONNX__TYPE_PROTO__VALUE_SPARSE_TENSOR_TYPE: {
      size_t mark = enter(c, "sparse_tensor_type");
      cmp_tensor_type(c, o, t->sparse_tensor_type->elem_type, t->sparse_tensor_type->shape);
      leave(c, mark);
      break;
    }
    case ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE: {
      size_t mark = enter(c, "sequence_type");
      const Onnx__TypeProto *e = t->sequence_type->elem_type;
      CHILD(c, "elem_type", o->elem != NULL, e != NULL, cmp_type(c, o->elem, e));
      leave(c, mark);
      break;
    }
    case ONNX__TYPE_PROTO__VALUE_OPTIONAL_TYPE: {
      size_t mark = enter(c, "optional_type");
      const Onnx__TypeProto *e = t->optional_type->elem_type;
      CHILD(c, "elem_type", o->elem != NULL, e != NULL, cmp_type(c, o->elem, e));
      leave(c, mark);
      break;
    }
    case ONNX__TYPE_PROTO__VALUE_MAP_TYPE: {
      size_t mark = enter(c, "map_type");
      cmp_i64(c, "key_type", o->map_key_type, t->map_type->key_type);
      const Onnx__TypeProto *e = t->map_type->value_type;
      CHILD(c, "value_type", o->elem != NULL, e != NULL, cmp_type(c, o->elem, e));
      leave(c, mark);
      break;
    }
    default:
      break;
  }
}

static void cmp_value_info(cmp *c, const onnx_value_info *o, const Onnx__ValueInfoProto *t) {
  cmp_str(c, "name", o->name, t->name);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  CHILD(c, "type", o->type != NULL, t->type != NULL, cmp_type(c, o->type, t->type));
  cmp_unknown_entries(c, "metadata_props", o->metadata, o->n_metadata, &t->base, 4);
}

static void cmp_attribute(cmp *c, const onnx_attribute *o, const Onnx__AttributeProto *t) {
  cmp_str(c, "name", o->name, t->name);
  cmp_str(c, "ref_attr_name", o->ref_attr_name, t->ref_attr_name);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  cmp_i64(c, "type", o->type, (int64_t)t->type);
  if (cmp_present(c, "f", o->has_f, t->has_f)) cmp_f32(c, "f", o->f, t->f);
  if (cmp_present(c, "i", o->has_i, t->has_i)) cmp_i64(c, "i", o->i, t->i);
  if (cmp_present(c, "s", o->has_s, t->has_s)) cmp_bin(c, "s", o->s, t->s);
  CHILD(c, "t", o->t != NULL, t->t != NULL, cmp_tensor(c, o->t, t->t));
  CHILD(c, "g", o->g != NULL, t->g != NULL, cmp_graph(c, o->g, t->g));
  CHILD(c, "sparse_tensor", o->sparse_tensor != NULL, t->sparse_tensor != NULL,
        cmp_sparse(c, o->sparse_tensor, t->sparse_tensor));
  CHILD(c, "tp", o->tp != NULL, t->tp != NULL, cmp_type(c, o->tp, t->tp));
  cmp_rep_f32(c, "floats", &o->floats, t->floats, t->n_floats);
  cmp_rep_i64(c, "ints", &o->ints, t->ints, t->n_ints);
  EACH(c, "strings", o->n_strings, t->n_strings, cmp_bin(c, NULL, o->strings[i], t->strings[i]));
  EACH(c, "tensors", o->n_tensors, t->n_tensors, cmp_tensor(c, &o->tensors[i], t->tensors[i]));
  EACH(c, "graphs", o->n_graphs, t->n_graphs, cmp_graph(c, &o->graphs[i], t->graphs[i]));
  EACH(c, "sparse_tensors", o->n_sparse_tensors, t->n_sparse_tensors,
       cmp_sparse(c, &o->sparse_tensors[i], t->sparse_tensors[i]));
  EACH(c, "type_protos", o->n_type_protos, t->n_type_protos,
       cmp_type(c, &o->type_protos[i], t->type_protos[i]));
  if (o->type >= 0 && o->type <= 14) feature(c, FEAT_ATTR + o->type);
  if (o->ref_attr_name.len) feature(c, FEAT_REF_ATTR);
}

static void cmp_node(cmp *c, const onnx_node *o, const Onnx__NodeProto *t) {
  EACH(c, "input", o->n_inputs, t->n_input, cmp_str(c, NULL, o->inputs[i], t->input[i]));
  EACH(c, "output", o->n_outputs, t->n_output, cmp_str(c, NULL, o->outputs[i], t->output[i]));
  cmp_str(c, "name", o->name, t->name);
  cmp_str(c, "op_type", o->op_type, t->op_type);
  cmp_str(c, "domain", o->domain, t->domain);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  EACH(c, "attribute", o->n_attributes, t->n_attribute,
       cmp_attribute(c, &o->attributes[i], t->attribute[i]));
  cmp_unknown_str(c, "overload", o->overload, &t->base, 8);
  cmp_unknown_entries(c, "metadata_props", o->metadata, o->n_metadata, &t->base, 9);
  if (o->doc_string.len) feature(c, FEAT_DOC);
}

static void cmp_graph(cmp *c, const onnx_graph *o, const Onnx__GraphProto *t) {
  cmp_str(c, "name", o->name, t->name);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  EACH(c, "node", o->n_nodes, t->n_node, cmp_node(c, &o->nodes[i], t->node[i]));
  EACH(c, "initializer", o->n_initializers, t->n_initializer,
       cmp_tensor(c, &o->initializers[i], t->initializer[i]));
  EACH(c, "sparse_initializer", o->n_sparse_initializers, t->n_sparse_initializer,
       cmp_sparse(c, &o->sparse_initializers[i], t->sparse_initializer[i]));
  EACH(c, "input", o->n_inputs, t->n_input, cmp_value_info(c, &o->inputs[i], t->input[i]));
  EACH(c, "output", o->n_outputs, t->n_output, cmp_value_info(c, &o->outputs[i], t->output[i]));
  EACH(c, "value_info", o->n_value_infos, t->n_value_info,
       cmp_value_info(c, &o->value_infos[i], t->value_info[i]));
  cmp_unknown_entries(c, "metadata_props", o->metadata, o->n_metadata, &t->base, 16);
}

static void cmp_model(cmp *c, const onnx_model *o, const Onnx__ModelProto *t) {
  cmp_i64(c, "ir_version", o->ir_version, t->ir_version);
  cmp_str(c, "producer_name", o->producer_name, t->producer_name);
  cmp_str(c, "producer_version", o->producer_version, t->producer_version);
  cmp_str(c, "domain", o->domain, t->domain);
  cmp_i64(c, "model_version", o->model_version, t->model_version);
  cmp_str(c, "doc_string", o->doc_string, t->doc_string);
  EACH(c, "opset_import", o->n_opsets, t->n_opset_import, {
    cmp_str(c, "domain", o->opsets[i].domain, t->opset_import[i]->domain);
    cmp_i64(c, "version", o->opsets[i].version, t->opset_import[i]->version);
  });
  cmp_entries(c, "metadata_props", o->metadata, o->n_metadata, t->metadata_props,
              t->n_metadata_props);
  CHILD(c, "graph", o->graph != NULL, t->graph != NULL, cmp_graph(c, o->graph, t->graph));
  if (o->doc_string.len) feature(c, FEAT_DOC);
}

/* ---------------------------------------------------------------------------------------------
 * Decoding with both readers. */
typedef struct outcome {
  bool ours_ok, theirs_ok;
  ofx_status status;
  char error[1024];   /* ofx_last_error() when ours failed */
  size_t mismatches;  /* field mismatches when both succeeded */
  uint64_t features;
} outcome;

/* An error message must say where: a byte offset, a field number or a field path. */
static bool error_is_located(const char *msg) {
  return msg[0] != '\0' && (strstr(msg, "byte offset") != NULL || strstr(msg, "field ") != NULL ||
                            strstr(msg, "graph") != NULL);
}

/* Decodes buf with both readers (ours into `arena`, which the caller frees) and compares. */
static outcome decode_both(const char *label, const uint8_t *buf, size_t size, bool quiet,
                           ofx_arena *arena) {
  outcome r;
  memset(&r, 0, sizeof r);
  onnx_model *m = NULL;
  ofx_error_clear();
  r.status = onnx_model_decode(buf, size, arena, &m);
  r.ours_ok = r.status == OFX_OK;
  if (!r.ours_ok) snprintf(r.error, sizeof r.error, "%s", ofx_last_error());
  Onnx__ModelProto *t = onnx__model_proto__unpack(NULL, size, buf);
  r.theirs_ok = t != NULL;
  if (r.ours_ok && r.theirs_ok) {
    cmp *c = calloc(1, sizeof *c);
    if (c == NULL) abort();
    c->file = label;
    c->buf = buf;
    c->size = size;
    c->quiet = quiet;
    cmp_model(c, m, t);
    r.mismatches = c->mismatches;
    r.features = c->features;
    free(c);
  }
  if (t) onnx__model_proto__free_unpacked(t, NULL);
  return r;
}

/* ---------------------------------------------------------------------------------------------
 * Model files. */
typedef struct file_list {
  char **paths;
  size_t n, cap;
} file_list;

static void list_add(file_list *l, const char *path) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->paths = realloc(l->paths, l->cap * sizeof *l->paths);
    if (l->paths == NULL) abort();
  }
  l->paths[l->n] = strdup(path);
  if (l->paths[l->n] == NULL) abort();
  l->n++;
}

static int by_path(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static file_list *nftw_list;
static const char *nftw_name;

static int nftw_visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void)st;
  if (type == FTW_F && strcmp(path + ftw->base, nftw_name) == 0) list_add(nftw_list, path);
  return 0;
}

static bool is_directory(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static void collect_tree(file_list *l, const char *root, const char *name) {
  size_t before = l->n;
  bool exists = is_directory(root);
  if (!exists) fprintf(stderr, "FAIL: model tree %s does not exist\n", root);
  CHECK(exists);
  if (!exists) return;
  nftw_list = l;
  nftw_name = name;
  int rc = nftw(root, nftw_visit, 32, FTW_PHYS);
  CHECK(rc == 0);
  printf("%s: %zu files named %s\n", root, l->n - before, name);
  if (l->n == before) fprintf(stderr, "FAIL: no %s under %s\n", name, root);
  CHECK(l->n > before);
}

static void collect_dir(file_list *l, const char *dir) {
  size_t before = l->n;
  DIR *d = opendir(dir);
  if (d == NULL) fprintf(stderr, "FAIL: model directory %s does not exist\n", dir);
  CHECK(d != NULL);
  if (d == NULL) return;
  struct dirent *e;
  while ((e = readdir(d)) != NULL) {
    size_t n = strlen(e->d_name);
    if (n > 5 && strcmp(e->d_name + n - 5, ".onnx") == 0) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
      list_add(l, path);
    }
  }
  closedir(d);
  printf("%s: %zu *.onnx files\n", dir, l->n - before);
  if (l->n == before) fprintf(stderr, "FAIL: no *.onnx in %s\n", dir);
  CHECK(l->n > before);
}

static void free_list(file_list *l) {
  for (size_t i = 0; i < l->n; i++) free(l->paths[i]);
  free(l->paths);
  memset(l, 0, sizeof *l);
}

typedef struct model_summary {
  size_t size;
  uint64_t features;
  bool ok;
} model_summary;

static size_t rejected_by_protobuf_c, rejected_by_us;

/* One CHECK per model: both decoders succeed (or both fail) and every field agrees. */
static model_summary test_model_file(const char *path) {
  model_summary s = {0, 0, false};
  uint8_t *buf = ofx_test_read_file(path, &s.size);
  CHECK(buf != NULL);
  if (buf == NULL) return s;
  ofx_arena arena = {0};
  outcome r = decode_both(path, buf, s.size, false, &arena);
  if (!r.theirs_ok) {
    rejected_by_protobuf_c++;
    fprintf(stderr, "NOTE %s: protobuf-c cannot unpack it; ours: %s\n", path,
            r.ours_ok ? "OK" : r.error);
  }
  if (!r.ours_ok) {
    rejected_by_us++;
    fprintf(stderr, "%s %s: our decoder fails: %s\n", r.theirs_ok ? "FAIL" : "NOTE", path, r.error);
  }
  if (r.mismatches) fprintf(stderr, "FAIL %s: %zu field mismatches\n", path, r.mismatches);
  CHECK(r.ours_ok == r.theirs_ok && r.mismatches == 0);
  s.ok = r.ours_ok && r.theirs_ok && r.mismatches == 0;
  s.features = r.features;
  for (int f = 0; f < FEAT_COUNT; f++) feature_models[f] += (r.features >> f) & 1;
  ofx_arena_free(&arena);
  free(buf);
  return s;
}

/* ---------------------------------------------------------------------------------------------
 * Truncated copies of real models. Each prefix is copied into a buffer of exactly its size, so
 * that ASan catches any read past the end. */
typedef struct truncation_stats {
  size_t cuts, ours_failed, disagreements, field_mismatches, unlocated_errors;
} truncation_stats;

static bool in_buffer_of(const uint8_t *buf, size_t size, const uint8_t *p) {
  return p >= buf && p < buf + size;
}

static void truncate_at(const char *path, const uint8_t *buf, size_t cut, bool must_fail,
                        truncation_stats *st) {
  uint8_t *copy = malloc(cut ? cut : 1);
  if (copy == NULL) abort();
  memcpy(copy, buf, cut);
  ofx_arena arena = {0};
  outcome r = decode_both(path, copy, cut, true, &arena);
  st->cuts++;
  if (!r.ours_ok) {
    st->ours_failed++;
    if (r.status != OFX_BAD_MODEL || !error_is_located(r.error)) {
      st->unlocated_errors++;
      fprintf(stderr, "FAIL %s cut at %zu: status %s, message \"%s\"\n", path, cut,
              ofx_status_name(r.status), r.error);
    }
  }
  if (r.ours_ok != r.theirs_ok) {
    st->disagreements++;
    if (st->disagreements <= 10)
      fprintf(stderr, "FAIL %s cut at %zu: ours %s, protobuf-c %s\n", path, cut,
              r.ours_ok ? "OK" : r.error, r.theirs_ok ? "OK" : "fails");
  }
  if (must_fail && r.ours_ok) {
    st->disagreements++;
    fprintf(stderr, "FAIL %s cut at %zu (inside a field): our decoder accepted it\n", path, cut);
  }
  if (r.mismatches) {
    st->field_mismatches++;
    fprintf(stderr, "FAIL %s cut at %zu: %zu field mismatches\n", path, cut, r.mismatches);
  }
  ofx_arena_free(&arena);
  free(copy);
}

static void report_truncation(const char *what, const truncation_stats *st) {
  printf("truncation %s: %zu cuts, ours failed on %zu, %zu disagreements with protobuf-c, "
         "%zu with field mismatches, %zu errors without status/location\n",
         what, st->cuts, st->ours_failed, st->disagreements, st->field_mismatches,
         st->unlocated_errors);
  CHECK(st->cuts > 0 && st->ours_failed > 0);
  CHECK(st->disagreements == 0 && st->field_mismatches == 0);
  CHECK(st->unlocated_errors == 0);
}

/* Every prefix of a small model. */
static void truncate_everywhere(const char *path, truncation_stats *st) {
  size_t size;
  uint8_t *buf = ofx_test_read_file(path, &size);
  if (buf == NULL) return;
  for (size_t cut = 0; cut < size; cut++) truncate_at(path, buf, cut, false, st);
  free(buf);
}

/* A large model at a few offsets that lie inside a field (the graph spans almost the whole file,
 * opset_import ends it), plus the zero-copy check on its initializers. */
static void large_model_checks(const char *path, truncation_stats *st) {
  size_t size;
  uint8_t *buf = ofx_test_read_file(path, &size);
  if (buf == NULL) return;
  ofx_arena arena = {0};
  onnx_model *m = NULL;
  ofx_status s = onnx_model_decode(buf, size, &arena, &m);
  CHECK(s == OFX_OK);
  if (s == OFX_OK && m->graph) {
    /* Zero-copy: initializer raw_data views lie inside the file bytes, with the size their
     * shape and type say. */
    size_t raw = 0, inside = 0, sized = 0;
    const uint8_t *first_raw = NULL;
    for (size_t i = 0; i < m->graph->n_initializers; i++) {
      const onnx_tensor *t = &m->graph->initializers[i];
      if (!t->has_raw_data) continue;
      raw++;
      const uint8_t *p = (const uint8_t *)t->raw_data.ptr;
      if (p >= buf && t->raw_data.len <= size && (size_t)(p - buf) <= size - t->raw_data.len)
        inside++;
      size_t expect = onnx_dtype_size(t->data_type);
      for (size_t d = 0; d < t->n_dims; d++) expect *= (size_t)t->dims[d];
      sized += expect == t->raw_data.len;
      if (first_raw == NULL && t->raw_data.len > 16 && in_buffer_of(buf, size, p)) first_raw = p;
    }
    printf("%s: %zu initializers, %zu with raw_data, %zu of them inside the input buffer, %zu "
           "sized dims x dtype\n",
           path, m->graph->n_initializers, raw, inside, sized);
    CHECK(raw > 0 && inside == raw && sized == raw);
    size_t cuts[] = {size - 1, size / 4, size / 2, 3 * size / 4,
                     first_raw ? (size_t)(first_raw - buf) + 8 : size / 3};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++)
      if (cuts[i] < size) truncate_at(path, buf, cuts[i], true, st);
  }
  ofx_arena_free(&arena);
  free(buf);
}

/* ---------------------------------------------------------------------------------------------
 * Hand-built encodings. */
typedef struct wbuf {
  uint8_t *p;
  size_t n, cap;
} wbuf;

static void put(wbuf *b, const void *data, size_t n) {
  if (b->n + n > b->cap) {
    b->cap = (b->n + n) * 2 + 64;
    b->p = realloc(b->p, b->cap);
    if (b->p == NULL) abort();
  }
  if (n) memcpy(b->p + b->n, data, n);
  b->n += n;
}

static void put_varint(wbuf *b, uint64_t v) {
  uint8_t tmp[10];
  size_t n = 0;
  do {
    tmp[n] = (uint8_t)(v & 0x7F);
    v >>= 7;
    if (v) tmp[n] |= 0x80;
    n++;
  } while (v);
  put(b, tmp, n);
}

static void put_key(wbuf *b, uint32_t field, uint32_t wire) { put_varint(b, (uint64_t)field << 3 | wire); }
static void put_int(wbuf *b, uint32_t field, uint64_t v) { put_key(b, field, 0); put_varint(b, v); }
static void put_fixed32(wbuf *b, uint32_t field, uint32_t v) {
  put_key(b, field, 5);
  uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  put(b, le, 4);
}
static void put_fixed64(wbuf *b, uint32_t field, uint64_t v) {
  put_key(b, field, 1);
  for (int i = 0; i < 8; i++) {
    uint8_t byte = (uint8_t)(v >> (8 * i));
    put(b, &byte, 1);
  }
}
static void put_bytes(wbuf *b, uint32_t field, const void *data, size_t n) {
  put_key(b, field, 2);
  put_varint(b, n);
  put(b, data, n);
}
static void put_str(wbuf *b, uint32_t field, const char *s) { put_bytes(b, field, s, strlen(s)); }
/* Appends sub as a length-delimited field and frees it. */
static void put_msg(wbuf *b, uint32_t field, wbuf *sub) {
  put_bytes(b, field, sub->p, sub->n);
  free(sub->p);
  memset(sub, 0, sizeof *sub);
}

static uint32_t f32_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

enum expect {
  AGREE,        /* both decoders succeed and agree on every field */
  BOTH_FAIL,    /* both reject it; ours with a message containing `needle` */
  OURS_FAIL,    /* ours rejects it (message contains `needle`); protobuf-c's verdict is noted */
  AGREE_OR_OURS_FAIL, /* a protobuf feature we deliberately do not support; see the note */
};

static void expect_case(const char *name, const wbuf *b, enum expect expect, const char *needle) {
  /* Exact-size copy so ASan sees overreads. */
  uint8_t *copy = malloc(b->n ? b->n : 1);
  if (copy == NULL) abort();
  if (b->n) memcpy(copy, b->p, b->n);
  ofx_arena arena = {0};
  char label[128];
  snprintf(label, sizeof label, "<%s>", name);
  outcome r = decode_both(label, copy, b->n, false, &arena);
  bool msg_ok = !r.ours_ok && r.status == OFX_BAD_MODEL && error_is_located(r.error) &&
                (needle == NULL || strstr(r.error, needle) != NULL);
  bool pass = false;
  switch (expect) {
    case AGREE: pass = r.ours_ok && r.theirs_ok && r.mismatches == 0; break;
    case BOTH_FAIL: pass = !r.theirs_ok && msg_ok; break;
    case OURS_FAIL: pass = msg_ok; break;
    case AGREE_OR_OURS_FAIL: pass = r.ours_ok ? r.theirs_ok && r.mismatches == 0 : msg_ok; break;
  }
  printf("case %-34s ours: %-4s protobuf-c: %-5s %s%s%s\n", name, r.ours_ok ? "OK" : "FAIL",
         r.theirs_ok ? "OK" : "FAIL", r.ours_ok ? "" : "\"", r.ours_ok ? "" : r.error,
         r.ours_ok ? "" : "\"");
  if (!pass)
    fprintf(stderr, "FAIL case %s: expected %s%s%s%s\n", name,
            expect == AGREE ? "agreement" : expect == BOTH_FAIL ? "both to fail" : "ours to fail",
            needle ? " with \"" : "", needle ? needle : "", needle ? "\" in our message" : "");
  CHECK(pass);
  ofx_arena_free(&arena);
  free(copy);
}

/* Attribute graphs nested `depth` deep: graph{node{attribute{g{...}}}}. */
static wbuf nested_graphs(int depth) {
  wbuf g = {0};
  put_str(&g, 2, "innermost");
  for (int i = 0; i < depth; i++) {
    wbuf attr = {0}, node = {0}, outer = {0};
    put_str(&attr, 1, "body");
    put_int(&attr, 20, ONNX_ATTR_GRAPH);
    put_msg(&attr, 6, &g);
    put_str(&node, 4, "If");
    put_msg(&node, 5, &attr);
    put_msg(&outer, 1, &node);
    g = outer;
  }
  wbuf model = {0};
  put_int(&model, 1, 8);
  put_msg(&model, 7, &g);
  return model;
}

/* A model using every field our reader decodes, since the real models leave many unused
 * (FLOATS, TENSORS, GRAPHS, sparse tensors, type protos, string/double/uint64 data, segments,
 * external data, denotations, metadata, doc strings, ref_attr_name). */
static void put_tensor(wbuf *b, uint32_t field, const char *name, int kind) {
  wbuf t = {0}, packed = {0}, e = {0};
  put_str(&t, 8, name);
  put_int(&t, 1, 2);
  put_int(&t, 1, 3);
  switch (kind) {
    case 0: /* raw float32 */
      put_int(&t, 2, 1);
      put_bytes(&t, 9, "0123456789abcdefghijklmn", 24);
      break;
    case 1: /* strings */
      put_int(&t, 2, 8);
      for (int i = 0; i < 6; i++) put_str(&t, 6, i % 2 ? "odd" : "");
      break;
    case 2: /* doubles, packed */
      put_int(&t, 2, 11);
      for (int i = 0; i < 6; i++) {
        double v = i * -1.25;
        uint8_t le[8];
        memcpy(le, &v, 8);
        put(&packed, le, 8);
      }
      put_msg(&t, 10, &packed);
      break;
    case 3: /* uint64, external, segment */
      put_int(&t, 2, 13);
      for (int i = 0; i < 6; i++) put_varint(&packed, UINT64_MAX - (uint64_t)i);
      put_msg(&t, 11, &packed);
      put_int(&t, 14, 1);
      put_str(&e, 1, "location");
      put_str(&e, 2, "w.bin");
      put_msg(&t, 13, &e);
      put_str(&e, 1, "offset");
      put_str(&e, 2, "4096");
      put_msg(&t, 13, &e);
      put_int(&packed, 1, 0);
      put_int(&packed, 2, 6);
      put_msg(&t, 3, &packed);
      break;
    case 4: /* int32 (negative), int64, float data */
      put_int(&t, 2, 6);
      for (int i = 0; i < 6; i++) put_varint(&packed, (uint64_t)(int64_t)(i - 3));
      put_msg(&t, 5, &packed);
      put_int(&t, 7, (uint64_t)-5);
      put_fixed32(&t, 4, f32_bits(0.5f));
      break;
  }
  put_str(&t, 12, "tensor doc");
  put_str(&e, 1, "tk");
  put_str(&e, 2, "tv");
  put_msg(&t, 16, &e); /* metadata_props: newer than Debian's proto */
  put_msg(b, field, &t);
}

static void put_sparse(wbuf *b, uint32_t field) {
  wbuf s = {0};
  put_tensor(&s, 1, "values", 4);
  put_tensor(&s, 2, "indices", 4);
  put_int(&s, 3, 10);
  put_int(&s, 3, 20);
  put_msg(b, field, &s);
}

/* kind: 0 tensor with shape, 1 sequence(map(int64 -> optional(tensor))), 2 sparse, 3 none */
static void put_type(wbuf *b, uint32_t field, int kind) {
  wbuf t = {0}, tt = {0}, shape = {0}, dim = {0};
  if (kind == 0 || kind == 2) {
    put_int(&dim, 1, 3);
    put_str(&dim, 3, "DATA_CHANNEL");
    put_msg(&shape, 1, &dim);
    put_str(&dim, 2, "batch");
    put_msg(&shape, 1, &dim);
    put_msg(&shape, 1, &dim); /* an empty dimension: neither value nor param */
    put_int(&tt, 1, kind == 0 ? 1 : 7);
    put_msg(&tt, 2, &shape);
    put_msg(&t, kind == 0 ? 1 : 8, &tt);
  } else if (kind == 1) {
    wbuf inner = {0}, opt = {0}, map = {0}, value = {0}, seq = {0}, elem = {0};
    put_int(&tt, 1, 10);
    put_msg(&inner, 1, &tt);
    put_msg(&opt, 1, &inner);
    put_msg(&value, 9, &opt);
    put_int(&map, 1, 7);
    put_msg(&map, 2, &value);
    put_msg(&elem, 5, &map);
    put_msg(&seq, 1, &elem);
    put_msg(&t, 4, &seq);
  }
  put_str(&t, 6, kind == 3 ? "ONLY_DENOTATION" : "IMAGE");
  put_msg(b, field, &t);
}

static void put_value_info(wbuf *b, uint32_t field, const char *name, int kind) {
  wbuf v = {0}, e = {0};
  put_str(&v, 1, name);
  put_type(&v, 2, kind);
  put_str(&v, 3, "value doc");
  put_str(&e, 1, "vk");
  put_msg(&v, 4, &e);
  put_msg(b, field, &v);
}

static void put_small_graph(wbuf *b, uint32_t field, const char *name) {
  wbuf g = {0}, n = {0};
  put_str(&n, 1, "x");
  put_str(&n, 2, "y");
  put_str(&n, 4, "Identity");
  put_msg(&g, 1, &n);
  put_str(&g, 2, name);
  put_value_info(&g, 11, "x", 0);
  put_value_info(&g, 12, "y", 0);
  put_msg(b, field, &g);
}

static wbuf kitchen_sink(void) {
  wbuf m = {0}, g = {0}, n = {0}, a = {0}, e = {0}, packed = {0};
  put_int(&m, 1, 9);
  put_str(&m, 2, "onnxfx-test");
  put_str(&m, 3, "1.0");
  put_str(&m, 4, "org.onnxfx");
  put_int(&m, 5, (uint64_t)-2);
  put_str(&m, 6, "model doc");
  put_int(&e, 2, 18); /* opset without domain */
  put_msg(&m, 8, &e);
  put_str(&e, 1, "ai.onnx.ml");
  put_int(&e, 2, 3);
  put_msg(&m, 8, &e);
  put_str(&e, 1, "author");
  put_str(&e, 2, "me");
  put_msg(&m, 14, &e);
  put_str(&e, 1, "empty");
  put_msg(&m, 14, &e);

  /* One node carrying every attribute kind. */
  put_str(&n, 1, "in");
  put_str(&n, 1, "");
  put_str(&n, 2, "out");
  put_str(&n, 3, "everything");
  put_str(&n, 4, "Custom");
  put_str(&n, 7, "org.onnxfx");
  put_str(&n, 6, "node doc");
  put_str(&a, 1, "f"); put_int(&a, 20, 1); put_fixed32(&a, 2, f32_bits(-2.5f)); put_msg(&n, 5, &a);
  put_str(&a, 1, "i"); put_int(&a, 20, 2); put_int(&a, 3, (uint64_t)-9); put_msg(&n, 5, &a);
  put_str(&a, 1, "s"); put_int(&a, 20, 3); put_bytes(&a, 4, "a\0b", 3); put_msg(&n, 5, &a);
  put_str(&a, 1, "t"); put_int(&a, 20, 4); put_tensor(&a, 5, "t", 0); put_msg(&n, 5, &a);
  put_str(&a, 1, "g"); put_int(&a, 20, 5); put_small_graph(&a, 6, "body"); put_msg(&n, 5, &a);
  put_str(&a, 1, "floats");
  put_int(&a, 20, 6);
  put_fixed32(&a, 7, f32_bits(1.0f)); /* unpacked (as onnx.proto declares them) */
  uint32_t fl[3] = {f32_bits(2.0f), f32_bits(-0.0f), 0xFF800000u};
  put_bytes(&a, 7, fl, sizeof fl); /* and packed */
  put_msg(&n, 5, &a);
  put_str(&a, 1, "ints");
  put_int(&a, 20, 7);
  put_int(&a, 8, (uint64_t)-1);
  put_varint(&packed, 300);
  put_varint(&packed, (uint64_t)INT64_MIN);
  put_msg(&a, 8, &packed);
  put_msg(&n, 5, &a);
  put_str(&a, 1, "strings"); put_int(&a, 20, 8); put_str(&a, 9, "x"); put_str(&a, 9, "");
  put_msg(&n, 5, &a);
  put_str(&a, 1, "tensors");
  put_int(&a, 20, 9);
  for (int k = 0; k < 5; k++) put_tensor(&a, 10, "ts", k);
  put_msg(&n, 5, &a);
  put_str(&a, 1, "graphs"); put_int(&a, 20, 10);
  put_small_graph(&a, 11, "then");
  put_small_graph(&a, 11, "else");
  put_msg(&n, 5, &a);
  put_str(&a, 1, "sparse"); put_int(&a, 20, 11); put_sparse(&a, 22); put_msg(&n, 5, &a);
  put_str(&a, 1, "sparses"); put_int(&a, 20, 12); put_sparse(&a, 23); put_sparse(&a, 23);
  put_msg(&n, 5, &a);
  put_str(&a, 1, "tp"); put_int(&a, 20, 13); put_type(&a, 14, 1); put_msg(&n, 5, &a);
  put_str(&a, 1, "tps"); put_int(&a, 20, 14);
  for (int k = 0; k < 4; k++) put_type(&a, 15, k);
  put_msg(&n, 5, &a);
  put_str(&a, 1, "ref"); put_str(&a, 21, "outer_alpha"); put_str(&a, 13, "attr doc");
  put_msg(&n, 5, &a); /* no type: UNDEFINED */
  put_str(&n, 8, "overload");
  put_str(&e, 1, "nk");
  put_str(&e, 2, "nv");
  put_msg(&n, 9, &e);
  put_msg(&g, 1, &n);
  put_str(&n, 4, "Relu"); /* a second, minimal node */
  put_msg(&g, 1, &n);

  put_str(&g, 2, "kitchen sink");
  put_str(&g, 10, "graph doc");
  for (int k = 0; k < 5; k++) put_tensor(&g, 5, "init", k);
  put_sparse(&g, 15);
  put_value_info(&g, 11, "in", 0);
  put_value_info(&g, 11, "in2", 2);
  put_value_info(&g, 12, "out", 1);
  put_value_info(&g, 13, "mid", 3);
  put_str(&e, 1, "gk");
  put_msg(&g, 16, &e);
  put_msg(&m, 7, &g);
  return m;
}

static void handmade_cases(void) {
  wbuf b = {0};
  const uint8_t raw[] = {0x3A, 0x05, 0x0A};
  put(&b, raw, sizeof raw);
  expect_case("length past the end", &b, BOTH_FAIL, "byte offset");
  b.n = 0;

  const uint8_t len_varint[] = {0x3A, 0x80};
  put(&b, len_varint, sizeof len_varint);
  expect_case("length varint cut short", &b, BOTH_FAIL, "byte offset");
  b.n = 0;

  const uint8_t long_varint[] = {0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                 0x80, 0x80, 0x80, 0x80, 0x01};
  put(&b, long_varint, sizeof long_varint);
  expect_case("11-byte varint", &b, BOTH_FAIL, "byte offset");
  b.n = 0;

  const uint8_t long_key[] = {0xF8, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x00};
  put(&b, long_key, sizeof long_key);
  expect_case("11-byte field key", &b, BOTH_FAIL, "byte offset");
  b.n = 0;

  /* 10 bytes whose last one carries bits beyond 64: protobuf-c drops them, we reject. */
  const uint8_t overflow[] = {0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
  put(&b, overflow, sizeof overflow);
  expect_case("varint overflowing 64 bits", &b, OURS_FAIL, "byte offset");
  b.n = 0;

  put_int(&b, 7, 1); /* ModelProto.graph sent as a varint */
  expect_case("graph with wire type varint", &b, BOTH_FAIL, "graph");
  b.n = 0;

  put_fixed32(&b, 2, 0); /* producer_name as fixed32 */
  expect_case("string with wire type fixed32", &b, BOTH_FAIL, "producer_name");
  b.n = 0;

  {
    wbuf attr = {0}, node = {0}, graph = {0};
    put_str(&attr, 1, "value");
    put_int(&attr, 5, 1); /* AttributeProto.t as a varint */
    put_msg(&node, 5, &attr);
    put_msg(&graph, 1, &node);
    put_msg(&b, 7, &graph);
    expect_case("nested wrong wire type", &b, BOTH_FAIL, "graph.node[0].attribute[0].t");
    b.n = 0;
  }
  {
    wbuf node = {0}, graph = {0};
    const uint8_t bad_node[] = {0x0A, 0x09, 'a', 'b'}; /* input: 9 bytes claimed, 2 present */
    put(&node, bad_node, sizeof bad_node);
    put_msg(&graph, 1, &node);
    put_msg(&b, 7, &graph);
    expect_case("nested length past the end", &b, BOTH_FAIL, "graph.node[0]");
    b.n = 0;
  }
  {
    wbuf tensor = {0}, graph = {0};
    const uint8_t three[] = {0, 0, 0};
    put_bytes(&tensor, 4, three, 3); /* packed float_data, not a multiple of 4 bytes */
    put_msg(&graph, 5, &tensor);
    put_msg(&b, 7, &graph);
    expect_case("packed floats of 3 bytes", &b, BOTH_FAIL, "float_data");
    b.n = 0;
  }
  {
    const uint8_t zero_field[] = {0x00, 0x00};
    put(&b, zero_field, sizeof zero_field);
    expect_case("field number 0", &b, BOTH_FAIL, "byte offset");
    b.n = 0;
  }
  {
    const uint8_t group[] = {0x0B, 0x0C}; /* field 1 start group / end group */
    put(&b, group, sizeof group);
    expect_case("group wire type", &b, OURS_FAIL, "byte offset");
    b.n = 0;
  }

  {
    /* A structurally broken field (unknown field 99 whose length runs past the end) inside each
     * kind of message: every level must check its own wire structure. The path lists the field
     * numbers leading to the broken message, outermost first. */
    static const struct {
      const char *name;
      uint32_t path[8];
      enum expect expect;
      const char *needle;
    } inner[] = {
        {"opset_import", {8}, BOTH_FAIL, "opset_import[0]"},
        {"model metadata_props", {14}, BOTH_FAIL, "metadata_props[0]"},
        {"graph", {7}, BOTH_FAIL, "graph"},
        {"node", {7, 1}, BOTH_FAIL, "graph.node[0]"},
        {"attribute", {7, 1, 5}, BOTH_FAIL, "graph.node[0].attribute[0]"},
        {"attribute.t", {7, 1, 5, 5}, BOTH_FAIL, "graph.node[0].attribute[0].t"},
        {"attribute.g", {7, 1, 5, 6}, BOTH_FAIL, "graph.node[0].attribute[0].g"},
        {"attribute.tensors", {7, 1, 5, 10}, BOTH_FAIL, "attribute[0].tensors[0]"},
        {"attribute.graphs", {7, 1, 5, 11}, BOTH_FAIL, "attribute[0].graphs[0]"},
        {"attribute.tp", {7, 1, 5, 14}, BOTH_FAIL, "attribute[0].tp"},
        {"attribute.type_protos", {7, 1, 5, 15}, BOTH_FAIL, "attribute[0].type_protos[0]"},
        {"attribute.sparse_tensor", {7, 1, 5, 22}, BOTH_FAIL, "attribute[0].sparse_tensor"},
        {"attribute.sparse_tensors", {7, 1, 5, 23}, BOTH_FAIL, "attribute[0].sparse_tensors[0]"},
        {"initializer", {7, 5}, BOTH_FAIL, "graph.initializer[0]"},
        {"tensor segment", {7, 5, 3}, BOTH_FAIL, "graph.initializer[0].segment"},
        {"tensor external_data", {7, 5, 13}, BOTH_FAIL, "graph.initializer[0].external_data[0]"},
        {"sparse_initializer", {7, 15}, BOTH_FAIL, "graph.sparse_initializer[0]"},
        {"sparse values", {7, 15, 1}, BOTH_FAIL, "graph.sparse_initializer[0].values"},
        {"sparse indices", {7, 15, 2}, BOTH_FAIL, "graph.sparse_initializer[0].indices"},
        {"value_info", {7, 13}, BOTH_FAIL, "graph.value_info[0]"},
        {"type", {7, 11, 2}, BOTH_FAIL, "graph.input[0].type"},
        {"tensor_type", {7, 11, 2, 1}, BOTH_FAIL, "graph.input[0].type.tensor_type"},
        {"sparse_tensor_type", {7, 11, 2, 8}, BOTH_FAIL, "graph.input[0].type.sparse_tensor_type"},
        {"sequence_type", {7, 11, 2, 4}, BOTH_FAIL, "graph.input[0].type.sequence_type"},
        {"map_type", {7, 11, 2, 5}, BOTH_FAIL, "graph.input[0].type.map_type"},
        {"map value_type", {7, 11, 2, 5, 2}, BOTH_FAIL, "graph.input[0].type.map_type.value_type"},
        {"optional_type", {7, 11, 2, 9}, BOTH_FAIL, "graph.input[0].type.optional_type"},
        {"sequence elem_type", {7, 11, 2, 4, 1}, BOTH_FAIL, "type.sequence_type.elem_type"},
        {"shape", {7, 11, 2, 1, 2}, BOTH_FAIL, "graph.input[0].type.tensor_type.shape"},
        {"shape dim", {7, 11, 2, 1, 2, 1}, BOTH_FAIL, "type.tensor_type.shape.dim[0]"},
        /* Fields newer than Debian's proto: protobuf-c keeps them unparsed, we decode them. */
        {"node metadata_props", {7, 1, 9}, OURS_FAIL, "graph.node[0].metadata_props[0]"},
        {"graph metadata_props", {7, 16}, OURS_FAIL, "graph.metadata_props[0]"},
        {"tensor metadata_props", {7, 5, 16}, OURS_FAIL, "graph.initializer[0].metadata_props[0]"},
        {"value_info metadata_props", {7, 11, 4}, OURS_FAIL, "graph.input[0].metadata_props[0]"},
    };
    for (size_t k = 0; k < sizeof inner / sizeof inner[0]; k++) {
      const uint8_t broken[] = {0x9A, 0x06, 0x05}; /* field 99, length 5, no bytes */
      wbuf msg = {0};
      put(&msg, broken, sizeof broken);
      size_t depth = 0;
      while (depth < 8 && inner[k].path[depth]) depth++;
      for (size_t lvl = depth; lvl-- > 0;) {
        wbuf outer = {0};
        put_msg(&outer, inner[k].path[lvl], &msg);
        msg = outer;
      }
      char name[96];
      snprintf(name, sizeof name, "broken %s", inner[k].name);
      expect_case(name, &msg, inner[k].expect, inner[k].needle);
      free(msg.p);
    }
  }

  /* Valid but unusual encodings, which must agree exactly. */
  expect_case("empty model", &b, AGREE, NULL);
  {
    put_int(&b, 1, 3);
    put_int(&b, 1, 8); /* a repeated singular scalar: the last one wins */
    put_str(&b, 2, "first");
    put_str(&b, 2, "second");
    put_int(&b, 100, 1); /* unknown fields of every wire type are skipped */
    put_fixed64(&b, 101, 2);
    put_fixed32(&b, 102, 3);
    put_str(&b, 103, "unknown");
    wbuf opset = {0};
    put_int(&opset, 2, 17);
    put_msg(&b, 8, &opset);
    expect_case("last value wins, unknown fields", &b, AGREE, NULL);
    b.n = 0;
  }
  {
    wbuf tensor = {0}, graph = {0}, packed = {0};
    put_str(&tensor, 8, "mixed");
    put_int(&tensor, 1, 2); /* dims split: unpacked, then packed */
    put_varint(&packed, 3);
    put_varint(&packed, 0);
    put_msg(&tensor, 1, &packed);
    put_int(&tensor, 2, 1);
    put_fixed32(&tensor, 4, f32_bits(1.5f)); /* float_data unpacked + packed */
    uint32_t fl[2] = {f32_bits(-0.0f), 0x7FC00123u};
    put_bytes(&tensor, 4, fl, sizeof fl);
    put_fixed32(&tensor, 4, f32_bits(3.25f));
    put_int(&tensor, 5, (uint64_t)(int64_t)-7); /* int32_data: negative as a 10-byte varint */
    put_varint(&packed, 0x7FFFFFFF);
    put_varint(&packed, 0xFFFFFFF9u);          /* -7 as a 5-byte varint (low 32 bits only) */
    put_varint(&packed, 0x100000005ull);       /* bits above 32 are dropped: 5 */
    put_varint(&packed, (uint64_t)(int64_t)INT32_MIN);
    put_msg(&tensor, 5, &packed);
    put_varint(&packed, (uint64_t)INT64_MIN); /* int64_data packed, then unpacked */
    put_varint(&packed, 1);
    put_msg(&tensor, 7, &packed);
    put_int(&tensor, 7, (uint64_t)INT64_MAX);
    put_fixed64(&tensor, 10, 0x400921FB54442D18ull); /* double_data unpacked + packed */
    uint64_t dbl[1] = {0xBFF0000000000000ull};
    put_bytes(&tensor, 10, dbl, sizeof dbl);
    put_int(&tensor, 11, UINT64_MAX); /* uint64_data */
    put_varint(&packed, 5);
    put_msg(&tensor, 11, &packed);
    put_str(&tensor, 6, "s0");
    put_bytes(&tensor, 6, "\0\xff", 2);
    wbuf seg = {0};
    put_int(&seg, 1, 4);
    put_int(&seg, 2, 9);
    put_msg(&tensor, 3, &seg);
    put_int(&tensor, 14, 1);
    wbuf entry = {0};
    put_str(&entry, 1, "location");
    put_str(&entry, 2, "weights.bin");
    put_msg(&tensor, 13, &entry);
    put_msg(&graph, 5, &tensor);
    put_msg(&b, 7, &graph);
    expect_case("mixed packed/unpacked tensor", &b, AGREE, NULL);
    b.n = 0;
  }
  {
    wbuf dim = {0}, shape = {0}, tt = {0}, type = {0}, vi = {0}, graph = {0}, seq = {0}, inner = {0};
    put_int(&dim, 1, 5);
    put_str(&dim, 2, "N"); /* oneof: dim_param after dim_value wins */
    put_str(&dim, 3, "DATA_BATCH");
    put_msg(&shape, 1, &dim);
    put_str(&dim, 2, "M");
    put_int(&dim, 1, 7); /* and dim_value after dim_param wins */
    put_msg(&shape, 1, &dim);
    put_int(&tt, 1, 1);
    put_msg(&tt, 2, &shape);
    put_msg(&type, 1, &tt);
    put_str(&type, 6, "TENSOR");
    put_str(&vi, 1, "x");
    put_msg(&vi, 2, &type);
    put_msg(&graph, 11, &vi);
    /* A type whose oneof changes: tensor_type, then sequence_type wins. */
    put_int(&tt, 1, 1);
    put_msg(&type, 1, &tt);
    put_int(&tt, 1, 7);
    put_msg(&inner, 1, &tt);
    put_msg(&seq, 1, &inner);
    put_msg(&type, 4, &seq);
    put_str(&vi, 1, "y");
    put_msg(&vi, 2, &type);
    put_msg(&graph, 12, &vi);
    put_msg(&b, 7, &graph);
    expect_case("oneof last member wins", &b, AGREE, NULL);
    b.n = 0;
    /* Switching oneof members clears the previous one: tensor_type with a shape, then
     * sparse_tensor_type without; sequence_type, then map_type. */
    put_int(&dim, 1, 5);
    put_msg(&shape, 1, &dim);
    put_int(&tt, 1, 1);
    put_msg(&tt, 2, &shape);
    put_msg(&type, 1, &tt);
    put_int(&tt, 1, 7);
    put_msg(&type, 8, &tt);
    put_str(&vi, 1, "sparse");
    put_msg(&vi, 2, &type);
    put_msg(&graph, 11, &vi);
    put_int(&tt, 1, 1);
    put_msg(&inner, 1, &tt);
    put_msg(&seq, 1, &inner);
    put_msg(&type, 4, &seq);
    put_int(&tt, 1, 6);
    put_msg(&inner, 1, &tt);
    put_int(&seq, 1, 8);
    put_msg(&seq, 2, &inner);
    put_msg(&type, 5, &seq);
    put_str(&vi, 1, "map");
    put_msg(&vi, 2, &type);
    put_msg(&graph, 11, &vi);
    put_msg(&b, 7, &graph);
    expect_case("oneof switch clears the member", &b, AGREE, NULL);
    b.n = 0;
  }
  {
    /* New fields that Debian's proto lacks: protobuf-c keeps them as unknown fields. */
    wbuf node = {0}, graph = {0}, entry = {0};
    put_str(&node, 4, "Relu");
    put_str(&node, 8, "overload-a");
    put_str(&entry, 1, "k");
    put_str(&entry, 2, "v");
    put_msg(&node, 9, &entry);
    put_msg(&graph, 1, &node);
    put_str(&entry, 1, "gk");
    put_msg(&graph, 16, &entry);
    put_msg(&b, 7, &graph);
    put_str(&entry, 1, "mk");
    put_str(&entry, 2, "mv");
    put_msg(&b, 14, &entry);
    expect_case("overload and metadata_props", &b, AGREE, NULL);
    b.n = 0;
  }

  wbuf deep = nested_graphs(30);
  expect_case("graphs nested 30 deep", &deep, AGREE, NULL);
  free(deep.p);
  deep = nested_graphs(46);
  expect_case("graphs nested 46 deep", &deep, AGREE, NULL);
  free(deep.p);
  deep = nested_graphs(60);
  expect_case("graphs nested 60 deep", &deep, OURS_FAIL, "graph.node[0].attribute[0].g.node[0]");
  free(deep.p);
  /* protobuf-c has no nesting limit; we stop at 48 levels rather than exhaust the stack. The
   * needle is the path: the reason ("messages nested deeper than 48 levels") at the end of the
   * message is cut off, as the path outgrows ofx_last_error's 1 KiB buffer and
   * ofx_error_prefix keeps the prefix. */
  deep = nested_graphs(200);
  expect_case("graphs nested 200 deep", &deep, OURS_FAIL, "graph.node[0].attribute[0].g.node[0]");
  free(deep.p);

  {
    /* A singular message field sent twice: protobuf merges the two (here: two nodes). Our
     * reader may reject this (it cannot merge two views into one), but must never corrupt
     * memory or return a half-merged model. */
    wbuf node = {0}, graph = {0};
    put_str(&node, 3, "a");
    put_msg(&graph, 1, &node);
    put_str(&graph, 2, "g1");
    put_msg(&b, 7, &graph);
    put_str(&node, 3, "b");
    put_msg(&graph, 1, &node);
    put_msg(&b, 7, &graph);
    expect_case("graph sent twice (merge)", &b, AGREE_OR_OURS_FAIL, "graph");
    b.n = 0;
    wbuf tensor = {0}, attr = {0};
    put_str(&attr, 1, "value");
    put_str(&tensor, 6, "x");
    put_str(&tensor, 6, "y");
    put_msg(&attr, 5, &tensor);
    put_str(&tensor, 6, "z");
    put_int(&tensor, 7, 4);
    put_msg(&attr, 5, &tensor);
    put_msg(&node, 5, &attr);
    put_msg(&graph, 1, &node);
    put_msg(&b, 7, &graph);
    expect_case("attribute t sent twice (merge)", &b, AGREE_OR_OURS_FAIL, "attribute[0].t");
    b.n = 0;
  }
  free(b.p);

  wbuf sink = kitchen_sink();
  expect_case("every field (kitchen sink)", &sink, AGREE, NULL);
  {
    /* The oracle must have compared every feature at least once in it. */
    ofx_arena arena = {0};
    outcome r = decode_both("<kitchen sink>", sink.p, sink.n, false, &arena);
    ofx_arena_free(&arena);
    int missing = 0;
    for (int f = 0; f < FEAT_COUNT; f++) {
        if (!feature_exists(f)) continue;
      if (!((r.features >> f) & 1)) {
        fprintf(stderr, "FAIL kitchen sink: %s not exercised\n", feature_name(f));
        missing++;
      }
    }
    CHECK(missing == 0);
    truncation_stats st = {0};
    for (size_t cut = 0; cut < sink.n; cut++) truncate_at("<kitchen sink>", sink.p, cut, false, &st);
    report_truncation("of the kitchen sink", &st);
  }
  free(sink.p);
}

/* ---------------------------------------------------------------------------------------------
 */
static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  double start = now_seconds();
  file_list tree = {0}, dir = {0};
  bool any = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--tree") == 0 && i + 2 < argc) {
      collect_tree(&tree, argv[i + 1], argv[i + 2]);
      i += 2;
      any = true;
    } else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
      collect_dir(&dir, argv[i + 1]);
      i += 1;
      any = true;
    } else {
      fprintf(stderr, "usage: %s [--tree DIR NAME]... [--dir DIR]...\n", argv[0]);
      CHECK(!"bad arguments");
      return ofx_test_finish("onnx-decode");
    }
  }
  if (!any) fprintf(stderr, "FAIL: no model directories given\n");
  CHECK(any);
  if (tree.n > 1) qsort(tree.paths, tree.n, sizeof *tree.paths, by_path);
  if (dir.n > 1) qsort(dir.paths, dir.n, sizeof *dir.paths, by_path);

  /* 1. Every model, field by field. */
  size_t agreed = 0;
  model_summary *sums = calloc(tree.n + 1, sizeof *sums);
  if (sums == NULL) abort();
  for (size_t i = 0; i < tree.n; i++) {
    sums[i] = test_model_file(tree.paths[i]);
    agreed += sums[i].ok;
  }
  for (size_t i = 0; i < dir.n; i++) agreed += test_model_file(dir.paths[i]).ok;
  printf("compared %zu models (%zu values): %zu agree field by field; protobuf-c rejected %zu, "
         "we rejected %zu\n",
         tree.n + dir.n, leaves_compared, agreed, rejected_by_protobuf_c, rejected_by_us);
  printf("features seen (models):");
  for (int f = 0; f < FEAT_COUNT; f++) {
    if (!feature_exists(f)) continue;
    printf("%s %s=%zu", f ? "," : "", feature_name(f), feature_models[f]);
  }
  printf("\n");

  /* 2. Truncation at every offset of small models, picked greedily for feature coverage. */
  truncation_stats small = {0};
  uint64_t covered = 0;
  size_t picked = 0;
  for (size_t i = 0; i < tree.n && picked < TRUNCATE_ALL_MAX_MODELS; i++) {
    if (!sums[i].ok || sums[i].size > TRUNCATE_ALL_MAX_SIZE) continue;
    if ((sums[i].features & ~covered) == 0) continue; /* adds no feature */
    covered |= sums[i].features;
    picked++;
    truncate_everywhere(tree.paths[i], &small);
  }
  printf("truncated %zu small models at every offset\n", picked);
  if (tree.n) report_truncation("of small models", &small);

  /* 3. Large models: zero-copy raw_data and truncation inside fields. */
  truncation_stats large = {0};
  for (size_t i = 0; i < dir.n; i++) large_model_checks(dir.paths[i], &large);
  if (dir.n) report_truncation("of large models", &large);

  /* 4. Hand-built encodings. */
  handmade_cases();

  free(sums);
  free_list(&tree);
  free_list(&dir);
  printf("time: %.1f s\n", now_seconds() - start);
  return ofx_test_finish("onnx-decode");
}
