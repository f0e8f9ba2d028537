/* The load-time passes on models written here. Fold constants (pass-fold-constants.c): weights
 * computed from constants become constants (Conv runs), multi-output nodes fold, folded nodes
 * leave the graph and take no name, a constant node its op rejects stays in the graph so that
 * only the extractor needing it fails, and weights computed from an input run (not folded).
 * Widen float16 (pass-widen-float16.c): float16 weights, float16 inputs given as bits or as
 * float32, Cast to float16 rounding, float16 values returned as float32. Run under
 * AddressSanitizer + UBSan: no leaks on any of these paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/half.h"
#include "model-writer.h"
#include "onnxfx.h"
#include "runtime/runtime.h"
#include "test-util.h"

/* Shorthands over model-writer.h, in this test's terms. */
static void typed_value_info(model_writer *m, uint32_t field, const char *name, int dtype, const int64_t *dims, int rank) {
  mw_value(m, field, name, dtype, dims, rank);
}

static void value_info(model_writer *m, uint32_t field, const char *name, const int64_t *dims, int rank) {
  mw_value(m, field, name, OFX_DTYPE_FLOAT32, dims, rank);
}

static void initializer(model_writer *m, const char *name, int dtype, const int64_t *dims, int rank, const void *data,
                        size_t bytes) {
  mw_initializer(m, name, dtype, dims, rank, data, bytes, 1);
}

/* `attr`, when not NULL, an int attribute set to *value. */
static void node(model_writer *m, const char *op_type, const char *name, const char *const *inputs, size_t n_inputs,
                 const char *outputs, const char *attr, const int64_t *value) {
  mw_node(m, op_type, name, inputs, n_inputs, outputs, attr, attr ? *value : 0);
}

static ofx_status finish(model_writer *m, pb_writer *bytes, ofx_model **model) { return mw_load(m, 13, bytes, model); }

static const int64_t image[4] = {1, 2, 3, 3};
static float input_value(size_t i) { return (float)((int)(i * 7 % 11) - 5) * 0.25f; }

static bool has_node(const ofx_model *model, const char *name) {
  for (size_t i = 0; i < model->graph->n_nodes; i++)
    if (model->graph->nodes[i].name && strcmp(model->graph->nodes[i].name, name) == 0) return true;
  return false;
}

/* x [1,2,3,3]; wf = Cast(w_int32 [4], FLOAT); (h0, h1) = Split(wf); w_cat = Concat(h1, h0);
 * w = Reshape(w_cat * 0.5, [2,2,1,1]) + ConstantOfShape([2,2,1,1]) (zeros); conv = Conv(x, w);
 * bad = Reshape(w_cat, [3, -1]) (4 elements: rejected) feeds Relu `uses_bad`. */
static void test_computed_weights(void) {
  model_writer m = {0};
  pb_writer bytes = {0};
  value_info(&m, 11, "x", image, 4);
  const int32_t w_int[4] = {4, 1, 2, -2}; /* swapped halves: {2, -2, 4, 1} / 2 = {1, -1, 2, 0.5} */
  const int64_t four[1] = {4}, two[1] = {2};
  initializer(&m, "w_int", OFX_DTYPE_INT32, four, 1, w_int, sizeof w_int);
  const int64_t shape[4] = {2, 2, 1, 1}, bad_shape[2] = {3, -1};
  initializer(&m, "shape", OFX_DTYPE_INT64, four, 1, shape, sizeof shape);
  initializer(&m, "bad_shape", OFX_DTYPE_INT64, two, 1, bad_shape, sizeof bad_shape);
  const float half = 0.5f;
  initializer(&m, "half", OFX_DTYPE_FLOAT32, NULL, 0, &half, sizeof half);
  const int64_t to_float = OFX_DTYPE_FLOAT32, axis0 = 0;
  node(&m, "Cast", "cast", (const char *[]){"w_int"}, 1, "wf", "to", &to_float);
  node(&m, "Split", "split", (const char *[]){"wf"}, 1, "h0,h1", "axis", &axis0);
  node(&m, "Concat", "cat", (const char *[]){"h1", "h0"}, 2, "w_cat", "axis", &axis0);
  node(&m, "Mul", "scale", (const char *[]){"w_cat", "half"}, 2, "w_half", NULL, NULL);
  node(&m, "Reshape", "reshape", (const char *[]){"w_half", "shape"}, 2, "w_r", NULL, NULL);
  node(&m, "ConstantOfShape", "zeros", (const char *[]){"shape"}, 1, "w_z", NULL, NULL);
  node(&m, "Add", "weights", (const char *[]){"w_r", "w_z"}, 2, "w", NULL, NULL);
  node(&m, "Conv", "conv", (const char *[]){"x", "w"}, 2, "c", NULL, NULL);
  node(&m, "Reshape", "bad", (const char *[]){"w_cat", "bad_shape"}, 2, "b", NULL, NULL);
  node(&m, "Relu", "uses_bad", (const char *[]){"b"}, 1, "ub", NULL, NULL);
  value_info(&m, 12, "c", image, 4);
  ofx_model *model;
  ofx_status s = finish(&m, &bytes, &model);
  CHECK(s == OFX_OK);
  if (s != OFX_OK) {
    fprintf(stderr, "load: %s\n", ofx_last_error());
    pbw_free(&bytes);
    return;
  }
  /* x, conv, and the rejected Reshape with its consumer: everything else folded */
  CHECK(model->graph->n_nodes == 4);
  CHECK(has_node(model, "conv") && has_node(model, "bad") && has_node(model, "uses_bad"));
  CHECK(!has_node(model, "cast") && !has_node(model, "split") && !has_node(model, "weights"));
  for (size_t i = 0; i < model->graph->n_nodes; i++) /* producer indices point at the compacted list */
    for (size_t k = 0; k < model->graph->nodes[i].n_outputs; k++)
      CHECK(model->graph->values[model->graph->nodes[i].outputs[k]].producer == (int)i);

  const char *conv_request[1] = {"conv"};
  ofx_extractor *fx = NULL;
  CHECK(ofx_extractor_create(model, conv_request, 1, 0, &fx) == OFX_OK);
  if (fx) {
    float x[18];
    for (size_t i = 0; i < 18; i++) x[i] = input_value(i);
    ofx_tensor_view out;
    CHECK(ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT32, image, 4, x, sizeof x) == OFX_OK);
    CHECK(ofx_extractor_run(fx) == OFX_OK && ofx_extractor_output(fx, 0, &out) == OFX_OK);
    const float *y = out.data;
    bool ok = y != NULL;
    for (size_t e = 0; e < 9 && ok; e++) { /* w = [[1, -1], [2, 0.5]] */
      float x0 = x[e], x1 = x[9 + e];
      if (fabsf(y[e] - (x0 - x1)) > 1e-6f || fabsf(y[9 + e] - (2 * x0 + 0.5f * x1)) > 1e-6f) ok = false;
    }
    CHECK(ok);
    ofx_extractor_free(fx);
  }
  /* the rejected node fails only the extractor that needs it, naming it */
  const char *bad_request[1] = {"uses_bad"};
  fx = NULL;
  CHECK(ofx_extractor_create(model, bad_request, 1, 0, &fx) != OFX_OK || ofx_extractor_run(fx) != OFX_OK);
  CHECK(strstr(ofx_last_error(), "bad") != NULL);
  ofx_extractor_free(fx);
  /* a folded node has no name */
  const char *folded_request[1] = {"weights"};
  fx = NULL;
  CHECK(ofx_extractor_create(model, folded_request, 1, 0, &fx) == OFX_NODE_NOT_FOUND);
  CHECK(fx == NULL);
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* Conv weights computed from a graph input, w = Relu(k): not folded, packed by the Conv at
 * run time (conv.c's unpacked path); a new k gives new results. */
static void test_run_time_weights(void) {
  model_writer m = {0};
  pb_writer bytes = {0};
  value_info(&m, 11, "x", image, 4);
  const int64_t k_dims[4] = {2, 2, 1, 1};
  value_info(&m, 11, "k", k_dims, 4);
  node(&m, "Relu", "wrelu", (const char *[]){"k"}, 1, "w", NULL, NULL);
  node(&m, "Conv", "conv", (const char *[]){"x", "w"}, 2, "c", NULL, NULL);
  value_info(&m, 12, "c", image, 4);
  ofx_model *model;
  CHECK(finish(&m, &bytes, &model) == OFX_OK);
  if (model) {
    const char *request[1] = {"conv"};
    ofx_extractor *fx = NULL;
    CHECK(ofx_extractor_create(model, request, 1, 0, &fx) == OFX_OK);
    float x[18];
    for (size_t i = 0; i < 18; i++) x[i] = input_value(i);
    const float ks[2][4] = {{1, -1, 2, 0.5f}, {-3, 0.25f, 1, 1}}; /* Relu: {1, 0, 2, 0.5}, {0, 0.25, 1, 1} */
    for (int r = 0; r < 2 && fx; r++) {
      for (size_t i = 0; i < ofx_extractor_input_count(fx); i++) {
        bool is_x = ofx_extractor_input_model_index(fx, i) == 0;
        CHECK(ofx_extractor_set_input(fx, i, OFX_DTYPE_FLOAT32, is_x ? image : k_dims, 4, is_x ? x : ks[r],
                                      is_x ? sizeof x : sizeof ks[r]) == OFX_OK);
      }
      ofx_tensor_view out;
      CHECK(ofx_extractor_run(fx) == OFX_OK && ofx_extractor_output(fx, 0, &out) == OFX_OK);
      const float *y = out.data;
      bool ok = y != NULL;
      for (size_t e = 0; e < 9 && ok; e++) {
        float x0 = x[e], x1 = x[9 + e];
        float w[4];
        for (int j = 0; j < 4; j++) w[j] = ks[r][j] > 0 ? ks[r][j] : 0;
        if (fabsf(y[e] - (w[0] * x0 + w[1] * x1)) > 1e-6f || fabsf(y[9 + e] - (w[2] * x0 + w[3] * x1)) > 1e-6f) ok = false;
      }
      CHECK(ok);
    }
    ofx_extractor_free(fx);
    ofx_model_free(model);
  }
  pbw_free(&bytes);
}

/* x float16 [1,2,3,3]; conv = Conv(x, w float16 [[1, -1], [0.5, 2]]); y = Cast(conv, FLOAT);
 * r = Cast(y * third, FLOAT16): float16 weights widened, x given as bits or as float32 (rounded),
 * Cast to float16 rounding, everything returned as float32. */
static void test_float16(void) {
  model_writer m = {0};
  pb_writer bytes = {0};
  typed_value_info(&m, 11, "x", OFX_DTYPE_FLOAT16, image, 4);
  const int64_t w_dims[4] = {2, 2, 1, 1};
  const uint16_t w[4] = {ofx_f32_to_f16(1), ofx_f32_to_f16(-1), ofx_f32_to_f16(0.5f), ofx_f32_to_f16(2)};
  initializer(&m, "w", OFX_DTYPE_FLOAT16, w_dims, 4, w, sizeof w);
  const float third = 1.0f / 3;
  initializer(&m, "third", OFX_DTYPE_FLOAT32, NULL, 0, &third, sizeof third);
  const int64_t to_float = OFX_DTYPE_FLOAT32, to_half = OFX_DTYPE_FLOAT16;
  node(&m, "Conv", "conv", (const char *[]){"x", "w"}, 2, "c", NULL, NULL);
  node(&m, "Cast", "widen", (const char *[]){"c"}, 1, "y", "to", &to_float);
  node(&m, "Mul", "scale", (const char *[]){"y", "third"}, 2, "s", NULL, NULL);
  node(&m, "Cast", "narrow", (const char *[]){"s"}, 1, "r", "to", &to_half);
  typed_value_info(&m, 12, "r", OFX_DTYPE_FLOAT16, image, 4);
  ofx_model *model;
  CHECK(finish(&m, &bytes, &model) == OFX_OK);
  if (model == NULL) {
    fprintf(stderr, "load: %s\n", ofx_last_error());
    pbw_free(&bytes);
    return;
  }
  const char *requests[2] = {"conv", "narrow"};
  ofx_extractor *fx = NULL;
  CHECK(ofx_extractor_create(model, requests, 2, 0, &fx) == OFX_OK);
  for (int as_float32 = 0; fx && as_float32 < 2; as_float32++) {
    float x[18], xr[18];
    uint16_t bits[18];
    for (size_t i = 0; i < 18; i++) {
      x[i] = input_value(i) + 0.1f; /* not a float16 value: rounding shows */
      bits[i] = ofx_f32_to_f16(x[i]);
      xr[i] = ofx_f16_to_f32(bits[i]);
    }
    ofx_status s = as_float32 ? ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT32, image, 4, x, sizeof x)
                              : ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT16, image, 4, bits, sizeof bits);
    CHECK(s == OFX_OK);
    CHECK(ofx_extractor_run(fx) == OFX_OK);
    ofx_tensor_view c, r;
    CHECK(ofx_extractor_output(fx, 0, &c) == OFX_OK && ofx_extractor_output(fx, 1, &r) == OFX_OK);
    CHECK(c.dtype == OFX_DTYPE_FLOAT32 && r.dtype == OFX_DTYPE_FLOAT32 && c.size == sizeof x);
    bool ok = c.data && r.data;
    for (size_t e = 0; e < 9 && ok; e++) {
      float c0 = xr[e] - xr[9 + e], c1 = 0.5f * xr[e] + 2 * xr[9 + e];
      const float *cv = c.data, *rv = r.data;
      if (fabsf(cv[e] - c0) > 1e-6f || fabsf(cv[9 + e] - c1) > 1e-6f) ok = false;
      if (rv[e] != ofx_f16_round(cv[e] * third) || rv[9 + e] != ofx_f16_round(cv[9 + e] * third)) ok = false;
    }
    CHECK(ok);
  }
  if (fx) { /* another type for a float16 input: BAD_INPUT naming it */
    int32_t wrong[18] = {0};
    CHECK(ofx_extractor_set_input(fx, 0, OFX_DTYPE_INT32, image, 4, wrong, sizeof wrong) == OFX_BAD_INPUT);
    CHECK(strstr(ofx_last_error(), "input 'x'") != NULL && strstr(ofx_last_error(), "float16") != NULL);
    ofx_extractor_free(fx);
  }
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* The reader of deferred external data: file 0 is `file`, reads are counted. */
typedef struct file_reader {
  const uint8_t *file;
  size_t size, reads, bytes;
} file_reader;

static ofx_status read_file(void *ctx, size_t file, uint64_t offset, size_t length, void *dest) {
  file_reader *r = ctx;
  if (file != 0 || offset > r->size || length > r->size - offset) return OFX_BAD_MODEL;
  memcpy(dest, r->file + offset, length);
  r->reads++, r->bytes += length;
  return OFX_OK;
}

/* External data read on demand (ofx_model_load_deferred) gives the same outputs as external data
 * in memory: a Conv whose packed weights and an Add whose unpacked constant are external, a
 * float16 external constant widened as it is read, and a second extractor reading them again;
 * a reader that fails makes the extractor fail with an error naming the tensor. */
static void test_deferred_external(void) {
  model_writer m = {0};
  pb_writer bytes = {0};
  const int64_t xs[4] = {1, 3, 5, 5}, ws[4] = {4, 3, 3, 3}, four = 4, ys[4] = {1, 4, 3, 3};
  float w[108], b[4], add[36];
  uint16_t half[36];
  for (int i = 0; i < 108; i++) w[i] = sinf((float)i) * 0.5f;
  for (int i = 0; i < 4; i++) b[i] = 0.25f * (float)i;
  for (int i = 0; i < 36; i++) add[i] = (float)i * 0.125f, half[i] = ofx_f32_to_f16((float)i * -0.5f);
  uint8_t file[7 + sizeof w + sizeof b + sizeof add + sizeof half];
  memset(file, 0xee, 7); /* unaligned offsets, as exporters write them */
  memcpy(file + 7, w, sizeof w);
  memcpy(file + 7 + sizeof w, b, sizeof b);
  memcpy(file + 7 + sizeof w + sizeof b, add, sizeof add);
  memcpy(file + 7 + sizeof w + sizeof b + sizeof add, half, sizeof half);
  value_info(&m, 11, "x", xs, 4);
  mw_initializer_external(&m, "w", 1, ws, 4, "weights.bin", 7, sizeof w);
  mw_initializer_external(&m, "b", 1, &four, 1, "weights.bin", 7 + sizeof w, sizeof b);
  mw_initializer_external(&m, "a", 1, ys, 4, "weights.bin", 7 + sizeof w + sizeof b, sizeof add);
  mw_initializer_external(&m, "h", 10, ys, 4, "weights.bin", 7 + sizeof w + sizeof b + sizeof add, sizeof half);
  const char *conv_in[3] = {"x", "w", "b"}, *add_in[2] = {"y", "a"}, *mul_in[2] = {"z", "h"};
  mw_node(&m, "Conv", "conv", conv_in, 3, "y", NULL, 0);
  mw_node(&m, "Add", "add", add_in, 2, "z", NULL, 0);
  mw_node(&m, "Mul", "mul", mul_in, 2, "o", NULL, 0);
  mw_bytes(&m, 13, &bytes);
  const char *location = "weights.bin";
  const uint8_t *files[1] = {file};
  const size_t sizes[1] = {sizeof file};
  ofx_model *in_memory = NULL, *deferred = NULL;
  file_reader reader = {file, sizeof file, 0, 0};
  CHECK(ofx_model_load_external(bytes.data, bytes.len, &location, files, sizes, 1, &in_memory) == OFX_OK);
  CHECK(ofx_model_load_deferred(bytes.data, bytes.len, &location, sizes, 1, read_file, &reader, &deferred) == OFX_OK);
  CHECK(reader.reads == 0); /* nothing is read before an extractor needs it */
  float x[75];
  for (int i = 0; i < 75; i++) x[i] = cosf((float)i);
  float got[2][2][36];
  const char *request[2] = {"add", "mul"};
  for (int pass = 0; pass < 2 && in_memory && deferred; pass++) /* the second pass: a new extractor reads again */
    for (int d = 0; d < 2; d++) {
      ofx_extractor *fx = NULL;
      ofx_tensor_view y = {0}, o = {0};
      bool ok = ofx_extractor_create(d ? deferred : in_memory, request, 2, 0, &fx) == OFX_OK &&
                ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT32, xs, 4, x, sizeof x) == OFX_OK && ofx_extractor_run(fx) == OFX_OK &&
                ofx_extractor_output(fx, 0, &y) == OFX_OK && ofx_extractor_output(fx, 1, &o) == OFX_OK;
      if (!ok) fprintf(stderr, "deferred external data (%s): %s\n", d ? "deferred" : "in memory", ofx_last_error());
      CHECK(ok && y.size == sizeof got[0][0] && o.size == sizeof got[0][0]);
      if (ok) memcpy(got[d][0], y.data, sizeof got[0][0]), memcpy(got[d][1], o.data, sizeof got[0][0]);
      ofx_extractor_free(fx);
    }
  CHECK(memcmp(got[0], got[1], sizeof got[0]) == 0);
  CHECK(reader.reads == 8 && reader.bytes == 2 * (sizeof w + sizeof b + sizeof add + sizeof half)); /* each tensor once per extractor */
  CHECK(got[1][1][5] != 0.0f);
  /* a file that can no longer be read */
  reader.size = 100;
  ofx_extractor *fx = NULL;
  CHECK(deferred && ofx_extractor_create(deferred, request, 2, 0, &fx) == OFX_BAD_MODEL);
  CHECK(strstr(ofx_last_error(), "'w'") != NULL);
  if (!strstr(ofx_last_error(), "'w'")) fprintf(stderr, "failed read: %s\n", ofx_last_error());
  ofx_model_free(in_memory);
  ofx_model_free(deferred);
  pbw_free(&bytes);
}

int main(void) {
  test_deferred_external();
  test_computed_weights();
  test_run_time_weights();
  test_float16();
  return ofx_test_finish("fold-constants");
}
