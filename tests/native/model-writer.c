#include "model-writer.h"

#include <stdio.h>
#include <string.h>

/* Writes `outputs` (names separated by ',') as the node's outputs. */
static void outputs_field(pb_writer *n, const char *outputs) {
  for (const char *o = outputs; *o;) {
    const char *end = strchr(o, ',');
    const size_t len = end ? (size_t)(end - o) : strlen(o);
    pbw_bytes_field(n, 2, o, len);
    o += len + (end != NULL);
  }
}

static void tensor_type(pb_writer *w, int dtype, const int64_t *dims, int rank) {
  pb_writer type = {0}, tensor = {0}, shape = {0};
  pbw_varint_field(&tensor, 1, (uint64_t)dtype);
  for (int d = 0; d < rank; d++) {
    pb_writer dim = {0};
    pbw_varint_field(&dim, 1, (uint64_t)dims[d]);
    pbw_message(&shape, 1, &dim);
    pbw_free(&dim);
  }
  pbw_message(&tensor, 2, &shape);
  pbw_message(&type, 1, &tensor);
  pbw_message(w, 2, &type);
  pbw_free(&type);
  pbw_free(&tensor);
  pbw_free(&shape);
}

void mw_value(model_writer *m, uint32_t field, const char *name, int dtype, const int64_t *dims, int rank) {
  pb_writer vi = {0};
  pbw_string_field(&vi, 1, name);
  tensor_type(&vi, dtype, dims, rank);
  pbw_message(&m->graph, field, &vi);
  pbw_free(&vi);
}

void mw_initializer(model_writer *m, const char *name, int dtype, const int64_t *dims, int rank, const void *data,
                    size_t count, size_t esize) {
  pb_writer t = {0};
  for (int d = 0; d < rank; d++) pbw_varint_field(&t, 1, (uint64_t)dims[d]);
  pbw_varint_field(&t, 2, (uint64_t)dtype);
  pbw_string_field(&t, 8, name);
  pbw_bytes_field(&t, 9, data, count * esize);
  pbw_message(&m->graph, 5, &t);
  pbw_free(&t);
}

void mw_initializer_external(model_writer *m, const char *name, int dtype, const int64_t *dims, int rank, const char *location,
                             uint64_t offset, uint64_t length) {
  pb_writer t = {0};
  for (int d = 0; d < rank; d++) pbw_varint_field(&t, 1, (uint64_t)dims[d]);
  pbw_varint_field(&t, 2, (uint64_t)dtype);
  pbw_string_field(&t, 8, name);
  char number[32];
  const char *keys[3] = {"location", "offset", "length"};
  for (int i = 0; i < 3; i++) {
    pb_writer entry = {0};
    if (i) snprintf(number, sizeof number, "%llu", (unsigned long long)(i == 1 ? offset : length));
    pbw_string_field(&entry, 1, keys[i]);
    pbw_string_field(&entry, 2, i ? number : location);
    pbw_message(&t, 13, &entry);
    pbw_free(&entry);
  }
  pbw_varint_field(&t, 14, 1); /* data_location = EXTERNAL */
  pbw_message(&m->graph, 5, &t);
  pbw_free(&t);
}

void mw_node(model_writer *m, const char *op_type, const char *name, const char *const *inputs, size_t n_inputs,
             const char *output, const char *attr, int64_t attr_value) {
  pb_writer n = {0};
  for (size_t k = 0; k < n_inputs; k++) pbw_string_field(&n, 1, inputs[k]);
  outputs_field(&n, output);
  pbw_string_field(&n, 3, name);
  pbw_string_field(&n, 4, op_type);
  if (attr) {
    pb_writer a = {0};
    pbw_string_field(&a, 1, attr);
    pbw_varint_field(&a, 3, (uint64_t)attr_value);
    pbw_varint_field(&a, 20, 2); /* INT */
    pbw_message(&n, 5, &a);
    pbw_free(&a);
  }
  pbw_message(&m->graph, 1, &n);
  pbw_free(&n);
}

void mw_node_ints(model_writer *m, const char *op_type, const char *name, const char *const *inputs, size_t n_inputs,
                  const char *output, const char *attr, const int64_t *values, size_t count) {
  pb_writer n = {0}, a = {0};
  for (size_t k = 0; k < n_inputs; k++) pbw_string_field(&n, 1, inputs[k]);
  outputs_field(&n, output);
  pbw_string_field(&n, 3, name);
  pbw_string_field(&n, 4, op_type);
  pbw_string_field(&a, 1, attr);
  for (size_t i = 0; i < count; i++) pbw_varint_field(&a, 8, (uint64_t)values[i]);
  pbw_varint_field(&a, 20, 7); /* INTS */
  pbw_message(&n, 5, &a);
  pbw_free(&a);
  pbw_message(&m->graph, 1, &n);
  pbw_free(&n);
}

void mw_bytes(model_writer *m, int64_t opset, pb_writer *bytes) {
  pb_writer opset_id = {0};
  pbw_varint_field(bytes, 1, 8); /* ir_version */
  pbw_varint_field(&opset_id, 2, (uint64_t)opset);
  pbw_message(bytes, 8, &opset_id);
  pbw_message(bytes, 7, &m->graph);
  pbw_free(&opset_id);
  pbw_free(&m->graph);
}

ofx_status mw_load(model_writer *m, int64_t opset, pb_writer *bytes, ofx_model **model) {
  mw_bytes(m, opset, bytes);
  *model = NULL;
  return ofx_model_load(bytes->data, bytes->len, model);
}

ofx_model *mw_finish(model_writer *m, int64_t opset, pb_writer *bytes) {
  ofx_model *model = NULL;
  if (mw_load(m, opset, bytes, &model) != OFX_OK) fprintf(stderr, "load: %s\n", ofx_last_error());
  return model;
}
