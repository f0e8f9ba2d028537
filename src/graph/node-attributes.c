/* Reading a node's attributes by type, and errors that name the node: what ops and the graph
 * passes use instead of the ONNX AttributeProto (node->proto stays inside src/graph). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "graph/graph-internal.h"

ofx_status ofx_node_verror(const ofx_node *node, ofx_status status, const char *fmt, va_list args) {
  char message[768];
  vsnprintf(message, sizeof message, fmt, args);
  const char *name = node->name ? node->name : node->onnx_name; /* NULL until the graph is named */
  return ofx_error(status, "node '%s' (%s, ONNX name '%s'): %s", name, node->op_type, node->onnx_name, message);
}

ofx_status ofx_node_error(const ofx_node *node, ofx_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  ofx_status s = ofx_node_verror(node, status, fmt, args);
  va_end(args);
  return s;
}

static const onnx_attribute *find(const ofx_node *node, const char *name) {
  if (node->proto == NULL) return NULL;
  for (size_t i = 0; i < node->proto->n_attributes; i++)
    if (onnx_str_eq(node->proto->attributes[i].name, name)) return &node->proto->attributes[i];
  return NULL;
}

/* Whether a present attribute has the wanted type; old exporters leave 'type' unset
 * (UNDEFINED) and are recognised by the field they fill. */
static bool has_type(const onnx_attribute *a, int32_t type, bool field_set) {
  return a->type == type || (a->type == ONNX_ATTR_UNDEFINED && field_set);
}

static ofx_status wrong_type(const ofx_node *node, const onnx_attribute *a, const char *name, const char *expected) {
  return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' must be %s (it has attribute type %d)", name, expected,
                        (int)a->type);
}

bool ofx_node_has_attr(const ofx_node *node, const char *name) { return find(node, name) != NULL; }

ofx_status ofx_node_attr_int(const ofx_node *node, const char *name, int64_t default_value, int64_t *out) {
  const onnx_attribute *a = find(node, name);
  *out = default_value;
  if (a == NULL) return OFX_OK;
  if (!has_type(a, ONNX_ATTR_INT, a->has_i)) return wrong_type(node, a, name, "an int");
  *out = a->i;
  return OFX_OK;
}

ofx_status ofx_node_attr_float(const ofx_node *node, const char *name, float default_value, float *out) {
  const onnx_attribute *a = find(node, name);
  *out = default_value;
  if (a == NULL) return OFX_OK;
  if (!has_type(a, ONNX_ATTR_FLOAT, a->has_f)) return wrong_type(node, a, name, "a float");
  *out = a->f;
  return OFX_OK;
}

/* The repeated field of a list attribute, or NULL (and an error) when it has another type. */
static ofx_status list_of(const ofx_node *node, const char *name, int32_t type, const onnx_attribute **list,
                          size_t capacity, bool reading, size_t *count) {
  const onnx_attribute *a = find(node, name);
  *list = NULL;
  *count = 0;
  if (a == NULL) return OFX_OK;
  if (!has_type(a, type, true))
    return wrong_type(node, a, name, type == ONNX_ATTR_INTS ? "a list of ints" : "a list of floats");
  size_t n = type == ONNX_ATTR_INTS ? a->ints.count : a->floats.count;
  if (reading && n > capacity)
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' has %zu values, at most %zu are allowed", name, n,
                          capacity);
  *list = a;
  *count = n;
  return OFX_OK;
}

ofx_status ofx_node_attr_ints(const ofx_node *node, const char *name, int64_t *out, size_t capacity,
                              size_t *count) {
  const onnx_attribute *a;
  OFX_TRY(list_of(node, name, ONNX_ATTR_INTS, &a, capacity, out != NULL, count));
  if (a && out) onnx_repeated_read_i64(&a->ints, out);
  return OFX_OK;
}

ofx_status ofx_node_attr_floats(const ofx_node *node, const char *name, float *out, size_t capacity,
                                size_t *count) {
  const onnx_attribute *a;
  OFX_TRY(list_of(node, name, ONNX_ATTR_FLOATS, &a, capacity, out != NULL, count));
  if (a && out) onnx_repeated_read_f32(&a->floats, out);
  return OFX_OK;
}

ofx_status ofx_node_attr_string(const ofx_node *node, const char *name, const char *default_value, char *out,
                                size_t capacity) {
  const onnx_attribute *a = find(node, name);
  if (a == NULL) {
    snprintf(out, capacity, "%s", default_value);
    return OFX_OK;
  }
  if (!has_type(a, ONNX_ATTR_STRING, a->has_s)) return wrong_type(node, a, name, "a string");
  if (a->s.len >= capacity)
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' is too long (%zu bytes)", name, a->s.len);
  if (a->s.len) memcpy(out, a->s.ptr, a->s.len); /* a STRING attribute without 's' has ptr NULL */
  out[a->s.len] = '\0';
  return OFX_OK;
}

ofx_status ofx_node_attr_tensor(const ofx_node *node, const char *name, ofx_attr_tensor *out, void *data,
                                size_t capacity) {
  const onnx_attribute *a = find(node, name);
  memset(out, 0, sizeof *out);
  out->rank = -1;
  if (a == NULL) return OFX_OK;
  const onnx_tensor *t = a->t;
  if (!has_type(a, ONNX_ATTR_TENSOR, t != NULL) || t == NULL) return wrong_type(node, a, name, "a tensor");
  if (t->n_dims > OFX_MAX_RANK)
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' has rank %zu, more than the %d supported", name,
                          t->n_dims, OFX_MAX_RANK);
  for (size_t i = 0; i < t->n_dims; i++) out->dims[i] = t->dims[i];
  if (!ofx_shape_numel(out->dims, (int)t->n_dims, &out->numel))
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' has a negative or too large dim", name);
  out->dtype = (ofx_dtype)t->data_type;
  out->rank = (int)t->n_dims;
  size_t esize = ofx_dtype_size(out->dtype);
  if (data == NULL || esize == 0) return OFX_OK; /* strings and 4-bit types: type and shape only */
  size_t nbytes = out->numel * esize;
  if (nbytes > capacity)
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' has %zu elements, at most %zu are allowed", name,
                          out->numel, capacity / esize);
  if (t->data_location == 1)
    return ofx_node_error(node, OFX_UNSUPPORTED_OP, "attribute '%s' keeps its data in an external file", name);
  if (t->has_raw_data) {
    if (t->raw_data.len != nbytes)
      return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s': raw_data has %zu bytes, its dims and type need %zu",
                            name, t->raw_data.len, nbytes);
    if (nbytes) memcpy(data, t->raw_data.ptr, nbytes);
    return OFX_OK;
  }
  size_t count = ofx_tensor_proto_count(t);
  if (count != out->numel)
    return ofx_node_error(node, OFX_BAD_MODEL, "attribute '%s' has %zu elements of data, its dims need %zu", name,
                          count, out->numel);
  void *wide = malloc((out->numel ? out->numel : 1) * (esize > 8 ? esize : 8));
  if (wide == NULL) return ofx_node_error(node, OFX_OUT_OF_MEMORY, "out of memory reading attribute '%s'", name);
  ofx_tensor_proto_decode(t, out->numel, wide);
  memcpy(data, wide, nbytes);
  free(wide);
  return OFX_OK;
}
