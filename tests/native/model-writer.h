/* A tiny ONNX writer for native tests that need small models of their own: typed graph inputs
 * and outputs, raw-data initializers, nodes with one optional int attribute; finish() loads
 * the bytes with ofx_model_load (the bytes must outlive the model). */
#ifndef OFX_TESTS_MODEL_WRITER_H
#define OFX_TESTS_MODEL_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "onnx/pb-writer.h"
#include "onnxfx.h"

typedef struct model_writer {
  pb_writer graph;
} model_writer;

/* A graph input (field 11) or output (field 12) of element type `dtype` (ONNX numbering). */
void mw_value(model_writer *m, uint32_t field, const char *name, int dtype, const int64_t *dims, int rank);
/* An initializer of `count` elements of `esize` bytes each. */
void mw_initializer(model_writer *m, const char *name, int dtype, const int64_t *dims, int rank, const void *data,
                    size_t count, size_t esize);
/* An initializer whose data is in external file `location` (ONNX external data). */
void mw_initializer_external(model_writer *m, const char *name, int dtype, const int64_t *dims, int rank, const char *location,
                             uint64_t offset, uint64_t length);
/* A node; `output` names its outputs, separated by ',' when several; `attr` names an int
 * attribute set to attr_value, or is NULL. */
void mw_node(model_writer *m, const char *op_type, const char *name, const char *const *inputs, size_t n_inputs,
             const char *output, const char *attr, int64_t attr_value);
/* The same with one ints attribute (`attr` = values[0..count)). */
void mw_node_ints(model_writer *m, const char *op_type, const char *name, const char *const *inputs, size_t n_inputs,
                  const char *output, const char *attr, const int64_t *values, size_t count);
/* Writes the model (opset `opset`) into *bytes, without loading it. */
void mw_bytes(model_writer *m, int64_t opset, pb_writer *bytes);
/* Writes the model (opset `opset`) into *bytes and loads it into *model (NULL on failure). */
ofx_status mw_load(model_writer *m, int64_t opset, pb_writer *bytes, ofx_model **model);
/* mw_load for tests that expect success: the model, or NULL after printing why. */
ofx_model *mw_finish(model_writer *m, int64_t opset, pb_writer *bytes);

#endif
