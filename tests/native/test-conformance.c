/* ONNX's node conformance tests (Debian libonnx-testdata) against our op registry.
 *
 * A test is *claimed* when every op of its model is in src/ops/op-defs.inc (or is a Constant,
 * which graph building folds). Every claimed test must either pass (outputs equal to
 * test_data_set_0/output_*.pb: floats (32- and 64-bit) within 1e-4 relative + 1e-4 absolute, float16
 * and bfloat16 (computed and returned as float32) within 1e-3 and 1e-2 relative + absolute,
 * integers and bools exactly) or be listed in conformance-expected-failures.txt with a reason, and then fail with
 * UNSUPPORTED_OP or BAD_MODEL (never wrong numbers, never a pass: stale entries are errors);
 * entries whose reason starts "BAD_INPUT:" (test data contradicting its model) expect BAD_INPUT.
 * The run writes docs/operators.md from what it saw.
 *
 * Usage: test-conformance NODE_TEST_DIR EXPECTED_FAILURES_FILE OUTPUT_MARKDOWN */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/half.h"
#include "graph/graph.h"
#include "onnx/onnx.h"
#include "ops/op.h"
#include "runtime/extractor-internal.h"
#include "runtime/runtime.h"
#include "test-util.h"

#define MAX_TESTS 2048
#define MAX_OPS 256
#define MAX_IO 16

typedef struct expected_failure {
  char name[128];
  char reason[256];
  bool seen;
} expected_failure;

typedef struct op_stats {
  char name[64];
  int claimed, passed;
  int64_t min_opset, max_opset;
  uint32_t input_types; /* bit t: a passing test gave the op an input of ONNX element type t */
} op_stats;

static expected_failure expected[MAX_TESTS];
static size_t n_expected;
static op_stats ops[MAX_OPS];
static size_t n_ops;

static op_stats *op_entry(const char *name) {
  for (size_t i = 0; i < n_ops; i++)
    if (strcmp(ops[i].name, name) == 0) return &ops[i];
  if (n_ops == MAX_OPS) return NULL;
  op_stats *s = &ops[n_ops++];
  snprintf(s->name, sizeof s->name, "%s", name);
  s->min_opset = INT64_MAX;
  s->max_opset = -1;
  return s;
}

static void read_expected(const char *path) {
  FILE *f = fopen(path, "r");
  CHECK(f != NULL);
  if (f == NULL) return;
  char line[512];
  while (fgets(line, sizeof line, f)) {
    char *p = line;
    while (*p == ' ' || *p == '\t') p++;
    if (*p == '#' || *p == '\n' || *p == '\0') continue;
    line[strcspn(line, "\n")] = '\0';
    expected_failure *e = &expected[n_expected];
    size_t len = strcspn(p, " \t");
    snprintf(e->name, sizeof e->name, "%.*s", (int)len, p);
    p += len;
    while (*p == ' ' || *p == '\t') p++;
    snprintf(e->reason, sizeof e->reason, "%s", p);
    if (n_expected + 1 < MAX_TESTS) n_expected++;
  }
  fclose(f);
}

static expected_failure *find_expected(const char *name) {
  for (size_t i = 0; i < n_expected; i++)
    if (strcmp(expected[i].name, name) == 0) return &expected[i];
  return NULL;
}

/* A decoded .pb tensor as contiguous little-endian elements. */
typedef struct test_tensor {
  char name[128];
  ofx_dtype dtype;
  size_t rank;
  int64_t dims[OFX_MAX_RANK];
  void *data;
  size_t size;
} test_tensor;

static bool load_tensor(const char *path, test_tensor *t) {
  size_t size;
  uint8_t *bytes = ofx_test_read_file(path, &size);
  if (bytes == NULL) return false;
  ofx_arena arena = {0};
  onnx_tensor *pb;
  bool ok = onnx_tensor_decode(bytes, size, &arena, &pb) == OFX_OK && pb->n_dims <= OFX_MAX_RANK;
  if (ok) {
    snprintf(t->name, sizeof t->name, "%.*s", (int)pb->name.len, pb->name.ptr);
    t->dtype = (ofx_dtype)pb->data_type;
    t->rank = pb->n_dims;
    size_t numel = 0;
    for (size_t i = 0; i < pb->n_dims; i++) t->dims[i] = pb->dims[i];
    size_t esize = onnx_dtype_size(pb->data_type);
    /* a SequenceProto or OptionalProto read as a TensorProto gives nonsense: refuse it */
    ok = esize != 0 && ofx_shape_numel(t->dims, (int)t->rank, &numel) && numel <= ((size_t)1 << 26);
    t->size = numel * esize;
    t->data = malloc(t->size ? t->size : 1);
    if (ok && pb->has_raw_data) {
      ok = pb->raw_data.len == t->size;
      if (ok) memcpy(t->data, pb->raw_data.ptr, t->size);
    } else if (ok) {
      /* typed fields: float_data, double_data, int64_data, int32_data (narrower types) */
      const onnx_repeated *r = pb->data_type == 1 ? &pb->float_data : pb->data_type == 11 ? &pb->double_data
                              : pb->data_type == 7 ? &pb->int64_data : &pb->int32_data;
      ok = r->count == numel && (pb->data_type == 1 || pb->data_type == 11 || pb->data_type == 7 || esize <= 4);
      if (ok && pb->data_type == 1) onnx_repeated_read_f32(r, t->data);
      else if (ok && pb->data_type == 11) onnx_repeated_read_f64(r, t->data);
      else if (ok) {
        int64_t *wide = malloc((numel ? numel : 1) * sizeof *wide);
        onnx_repeated_read_i64(r, wide);
        for (size_t i = 0; i < numel; i++) {
          if (esize == 8) ((int64_t *)t->data)[i] = wide[i];
          else if (esize == 4) ((int32_t *)t->data)[i] = (int32_t)wide[i];
          else if (esize == 2) ((uint16_t *)t->data)[i] = (uint16_t)wide[i];
          else ((uint8_t *)t->data)[i] = (uint8_t)wide[i];
        }
        free(wide);
      }
    }
  }
  ofx_arena_free(&arena);
  free(bytes);
  return ok;
}

/* Compares one output; writes why not into why. */
static bool same_tensor(const ofx_tensor_view *got, const test_tensor *want, char *why, size_t why_size) {
  if ((want->dtype == OFX_DTYPE_FLOAT16 || want->dtype == OFX_DTYPE_BFLOAT16) && got->dtype == OFX_DTYPE_FLOAT32) {
    /* float16 and bfloat16 are computed and returned as float32 (docs/api.md): within their
     * precision (bfloat16's test data is truncated, not rounded: one bfloat16 step) */
    bool bf16 = want->dtype == OFX_DTYPE_BFLOAT16;
    double tol = bf16 ? 1e-2 : 1e-3;
    size_t n = want->size / 2;
    if (got->size != n * 4 || got->rank != want->rank) {
      snprintf(why, why_size, "float16 output of %zu bytes, expected %zu elements", got->size, n);
      return false;
    }
    const float *x = got->data;
    for (size_t i = 0; i < n; i++) {
      uint16_t h;
      memcpy(&h, (const char *)want->data + 2 * i, sizeof h);
      float y = bf16 ? ofx_bf16_to_f32(h) : ofx_f16_to_f32(h);
      if ((isnan(y) && isnan(x[i])) || (isinf(y) && x[i] == y)) continue;
      if (!(fabs((double)x[i] - y) <= tol + tol * fabs((double)y))) {
        snprintf(why, why_size, "element %zu is %.9g, expected %.9g (%s)", i, x[i], y, bf16 ? "bfloat16" : "float16");
        return false;
      }
    }
    return true;
  }
  if (got->dtype != want->dtype) {
    snprintf(why, why_size, "dtype %s, expected %s", onnx_dtype_name((int32_t)got->dtype), onnx_dtype_name((int32_t)want->dtype));
    return false;
  }
  bool dims_ok = got->rank == want->rank;
  for (size_t i = 0; dims_ok && i < got->rank; i++) dims_ok = got->dims[i] == want->dims[i];
  if (!dims_ok || got->size != want->size) {
    char a[96], b[96];
    snprintf(why, why_size, "shape %s, expected %s", ofx_shape_str(got->dims, (int)got->rank, a, sizeof a),
             ofx_shape_str(want->dims, (int)want->rank, b, sizeof b));
    return false;
  }
  if (got->dtype == OFX_DTYPE_FLOAT32) {
    const float *x = got->data, *y = want->data;
    for (size_t i = 0; i < want->size / 4; i++) {
      if (isnan(y[i]) && isnan(x[i])) continue;
      if (isinf(y[i]) && x[i] == y[i]) continue;
      if (!(fabs((double)x[i] - y[i]) <= 1e-4 + 1e-4 * fabs((double)y[i]))) {
        snprintf(why, why_size, "element %zu is %.9g, expected %.9g", i, x[i], y[i]);
        return false;
      }
    }
    return true;
  }
  if (got->dtype == 11) { /* float64: the same tolerance (summation order differs from numpy's) */
    const double *x = got->data, *y = want->data;
    for (size_t i = 0; i < want->size / 8; i++) {
      if (isnan(y[i]) && isnan(x[i])) continue;
      if (isinf(y[i]) && x[i] == y[i]) continue;
      if (!(fabs(x[i] - y[i]) <= 1e-4 + 1e-4 * fabs(y[i]))) {
        snprintf(why, why_size, "element %zu is %.17g, expected %.17g", i, x[i], y[i]);
        return false;
      }
    }
    return true;
  }
  if (memcmp(got->data, want->data, want->size) != 0) {
    snprintf(why, why_size, "integer/bool elements differ");
    return false;
  }
  return true;
}

typedef enum outcome { PASSED, WRONG, ERRORED } outcome;

/* Loads test_data_set_0/<kind>_<k>.pb for k = 0, 1, ... into t; returns how many, or -1 (and
 * says why) when one cannot be read as a TensorProto. */
static int load_all(const char *dir, const char *kind, test_tensor *t, char *why, size_t why_size) {
  char path[1024];
  for (int n = 0; n < MAX_IO; n++) {
    snprintf(path, sizeof path, "%s/test_data_set_0/%s_%d.pb", dir, kind, n);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return n;
    fclose(f);
    if (!load_tensor(path, &t[n])) {
      free(t[n].data);
      t[n].data = NULL;
      snprintf(why, why_size, "%s_%d.pb is not a tensor of a supported type (sequence, optional or string data)", kind, n);
      return -1;
    }
  }
  return MAX_IO;
}

/* Runs one test directory; on ERRORED *status holds the error code. */
static outcome run_test(const char *dir, ofx_model *model, ofx_status *status, char *why, size_t why_size) {
  const ofx_graph *g = model->graph;
  test_tensor inputs[MAX_IO] = {0}, outputs[MAX_IO] = {0};
  outcome result = PASSED;
  ofx_extractor *fx = NULL;
  int values[MAX_IO];
  size_t n_values = g->n_outputs < MAX_IO ? g->n_outputs : MAX_IO;
  for (size_t i = 0; i < n_values; i++) values[i] = g->outputs[i];
  /* graph outputs that building folded into constants are compared directly */
  bool all_constant = true;
  for (size_t i = 0; i < n_values; i++) all_constant &= g->values[values[i]].kind == OFX_VALUE_CONSTANT;
  if (!all_constant) {
    *status = ofx_extractor_create_for_values(model, values, n_values, &fx);
    if (*status != OFX_OK) {
      snprintf(why, why_size, "create: %s", ofx_last_error());
      return ERRORED;
    }
  }
  int n_in = load_all(dir, "input", inputs, why, why_size);
  int n_out = n_in < 0 ? -1 : load_all(dir, "output", outputs, why, why_size);
  if (n_in < 0 || n_out < 0) {
    *status = OFX_BAD_MODEL;
    result = ERRORED;
    goto done;
  }
  if (n_values != (size_t)n_out) {
    snprintf(why, why_size, "%zu graph outputs but %d expected outputs", n_values, n_out);
    result = WRONG;
    goto done;
  }
  if (all_constant) {
    for (size_t i = 0; i < n_values && result == PASSED; i++) {
      const ofx_value *v = &g->values[values[i]];
      ofx_tensor_view view = {v->dtype, (size_t)v->rank, {0}, v->data, v->nbytes};
      memcpy(view.dims, v->dims, sizeof view.dims);
      if (!same_tensor(&view, &outputs[i], why, why_size)) result = WRONG;
    }
    goto done;
  }
  for (size_t i = 0; i < ofx_extractor_input_count(fx); i++) {
    size_t model_index = ofx_extractor_input_model_index(fx, i);
    const char *name = g->values[g->inputs[model_index]].name;
    const test_tensor *t = NULL;
    for (int k = 0; k < n_in && t == NULL; k++)
      if (strcmp(inputs[k].name, name) == 0) t = &inputs[k];
    if (t == NULL && model_index < (size_t)n_in) t = &inputs[model_index];
    if (t == NULL) {
      snprintf(why, why_size, "no test data for input '%s'", name);
      result = WRONG;
      goto done;
    }
    /* bfloat16 test data is stored as uint16: the same bits */
    ofx_dtype dtype = t->dtype == 4 && g->values[g->inputs[model_index]].dtype == 16 ? (ofx_dtype)16 : t->dtype;
    *status = ofx_extractor_set_input(fx, i, dtype, t->dims, t->rank, t->data, t->size);
    if (*status != OFX_OK) {
      snprintf(why, why_size, "set_input: %s", ofx_last_error());
      result = ERRORED;
      goto done;
    }
  }
  *status = ofx_extractor_run(fx);
  if (*status != OFX_OK) {
    snprintf(why, why_size, "run: %s", ofx_last_error());
    result = ERRORED;
    goto done;
  }
  for (size_t i = 0; i < n_values && result == PASSED; i++) {
    ofx_tensor_view view;
    *status = ofx_extractor_output(fx, i, &view);
    if (*status != OFX_OK) {
      snprintf(why, why_size, "output %zu: %s", i, ofx_last_error());
      result = ERRORED;
      continue;
    }
    /* bfloat16 expected data is stored as uint16: the same bits */
    if (g->values[values[i]].dtype == OFX_DTYPE_BFLOAT16 && outputs[i].dtype == 4) outputs[i].dtype = OFX_DTYPE_BFLOAT16;
    if (!same_tensor(&view, &outputs[i], why, why_size)) {
      char tmp[1024];
      snprintf(tmp, sizeof tmp, "output %zu: %s", i, why);
      snprintf(why, why_size, "%s", tmp);
      result = WRONG;
    }
  }
done:
  ofx_extractor_free(fx);
  for (int i = 0; i < MAX_IO; i++) {
    free(inputs[i].data);
    free(outputs[i].data);
  }
  return result;
}

/* The model's op types (default domain) and opset, read with our decoder alone. */
static bool model_ops(const uint8_t *bytes, size_t size, char ops_out[][64], size_t *n, int64_t *opset, bool *claimed) {
  ofx_arena arena = {0};
  onnx_model *m;
  *n = 0;
  *claimed = true;
  *opset = -1;
  if (onnx_model_decode(bytes, size, &arena, &m) != OFX_OK || m->graph == NULL) {
    ofx_arena_free(&arena);
    return false;
  }
  for (size_t i = 0; i < m->n_opsets; i++)
    if (m->opsets[i].domain.len == 0 || onnx_str_eq(m->opsets[i].domain, "ai.onnx")) *opset = m->opsets[i].version;
  for (size_t i = 0; i < m->graph->n_nodes; i++) {
    const onnx_node *node = &m->graph->nodes[i];
    char op[64], domain[64];
    snprintf(op, sizeof op, "%.*s", (int)node->op_type.len, node->op_type.ptr);
    snprintf(domain, sizeof domain, "%.*s", (int)node->domain.len, node->domain.ptr);
    if (strcmp(op, "Constant") != 0 && ofx_op_find(domain, op) == NULL) *claimed = false;
    bool dup = false;
    for (size_t k = 0; k < *n; k++) dup |= strcmp(ops_out[k], op) == 0;
    if (!dup && *n < 32) snprintf(ops_out[(*n)++], 64, "%s", op);
  }
  ofx_arena_free(&arena);
  return true;
}

/* Records the element types a passing test's nodes read (graph inputs and constants carry theirs). */
static void note_input_types(const ofx_model *model) {
  const ofx_graph *g = model->graph;
  for (size_t i = 0; i < g->n_nodes; i++) {
    const ofx_node *n = &g->nodes[i];
    if (n->proto == NULL) continue;
    char op[64];
    snprintf(op, sizeof op, "%.*s", (int)n->proto->op_type.len, n->proto->op_type.ptr);
    op_stats *s = op_entry(op);
    for (size_t k = 0; s && k < n->n_inputs; k++) {
      const int v = n->inputs[k];
      const int t = v >= 0 ? (int)g->values[v].dtype : 0;
      if (t > 0 && t < 32) s->input_types |= 1u << t;
    }
  }
}

/* "float32, int64" for a type mask. */
static const char *type_list(uint32_t mask, char *buf, size_t size) {
  size_t at = 0;
  buf[0] = '\0';
  for (int t = 1; t < 32; t++)
    if (mask & (1u << t)) at += (size_t)snprintf(buf + at, at < size ? size - at : 0, "%s%s", at ? ", " : "", onnx_dtype_name(t));
  return at ? buf : "–";
}

static int by_name(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static int by_op(const void *a, const void *b) { return strcmp(((const op_stats *)a)->name, ((const op_stats *)b)->name); }

int main(int argc, char **argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: %s NODE_TEST_DIR EXPECTED_FAILURES_FILE OUTPUT_MARKDOWN\n", argv[0]);
    return 2;
  }
  read_expected(argv[2]);
  struct dirent **entries;
  int n_entries = scandir(argv[1], &entries, NULL, by_name);
  CHECK(n_entries > 0);
  int claimed = 0, passed = 0, failed_as_expected = 0, total = 0;
  for (int e = 0; e < n_entries; e++) {
    const char *name = entries[e]->d_name;
    if (strncmp(name, "test_", 5) != 0) continue;
    total++;
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/%s", argv[1], name);
    snprintf(path, sizeof path, "%s/model.onnx", dir);
    size_t size;
    uint8_t *bytes = ofx_test_read_file(path, &size);
    char op_names[32][64];
    size_t n_op_names;
    int64_t opset;
    bool is_claimed;
    if (bytes == NULL || !model_ops(bytes, size, op_names, &n_op_names, &opset, &is_claimed) || !is_claimed) {
      free(bytes);
      continue;
    }
    claimed++;
    for (size_t k = 0; k < n_op_names; k++) {
      op_stats *s = op_entry(op_names[k]);
      if (s) s->claimed++;
    }
    ofx_model *model = NULL;
    ofx_status status = ofx_model_load(bytes, size, &model);
    char why[1024] = "";
    outcome result = ERRORED;
    if (status != OFX_OK) snprintf(why, sizeof why, "load: %s", ofx_last_error());
    else result = run_test(dir, model, &status, why, sizeof why);
    expected_failure *x = find_expected(name);
    if (x) {
      x->seen = true;
      bool bad_input = strncmp(x->reason, "BAD_INPUT:", 10) == 0;
      bool ok = result == ERRORED && (bad_input ? status == OFX_BAD_INPUT : status == OFX_UNSUPPORTED_OP || status == OFX_BAD_MODEL);
      if (!ok)
        fprintf(stderr, "%s: listed as an expected failure (%s) but %s %s\n", name, x->reason,
                result == PASSED ? "it passes: remove it from the list" : "it does not fail with UNSUPPORTED_OP/BAD_MODEL:", why);
      CHECK(ok);
      if (ok) failed_as_expected++;
    } else {
      if (result != PASSED)
        fprintf(stderr, "%s: %s %s\n", name, result == WRONG ? "WRONG" : ofx_status_name(status), why);
      CHECK(result == PASSED);
      if (result == PASSED) {
        passed++;
        note_input_types(model);
        for (size_t k = 0; k < n_op_names; k++) {
          op_stats *s = op_entry(op_names[k]);
          if (!s) continue;
          s->passed++;
          if (opset < s->min_opset) s->min_opset = opset;
          if (opset > s->max_opset) s->max_opset = opset;
        }
      }
    }
    ofx_model_free(model);
    free(bytes);
  }
  for (int e = 0; e < n_entries; e++) free(entries[e]);
  free(entries);
  for (size_t i = 0; i < n_expected; i++) {
    if (!expected[i].seen) fprintf(stderr, "expected-failure entry %s is not a claimed test: remove it\n", expected[i].name);
    CHECK(expected[i].seen);
  }
  printf("conformance: %d node tests, %d claimed, %d pass, %d fail as expected\n", total, claimed, passed, failed_as_expected);
  CHECK(passed > 0);

  FILE *md = fopen(argv[3], "w");
  CHECK(md != NULL);
  if (md) {
    qsort(ops, n_ops, sizeof ops[0], by_op);
    fprintf(md, "<!-- generated by tests/native/test-conformance.c from Debian libonnx-testdata; do not edit -->\n");
    fprintf(md, "# Operators\n\n");
    fprintf(md, "Ops in `src/ops/op-defs.inc`, checked against ONNX's node conformance tests (onnx 1.12 test data).\n");
    fprintf(md, "%d of %d node tests use only supported ops; %d pass and %d are expected failures (below), which\n", claimed, total, passed, failed_as_expected);
    fprintf(md, "must fail with `UNSUPPORTED_OP` or `BAD_MODEL` rather than give wrong numbers.\n\n");
    fprintf(md, "float16 and bfloat16 are computed as float32 (docs/api.md, \"float16\"): their weights are widened when the\n");
    fprintf(md, "model loads, `Cast` to either rounds to its precision and keeps float32, and their outputs are\n");
    fprintf(md, "compared with the expected values within 1e-3 (float16) or 1e-2 (bfloat16) relative + absolute.\n");
    fprintf(md, "Nodes whose inputs are all constants are evaluated once when the model loads (computed weights).\n\n");
    fprintf(md, "Input types are the element types the op read in passing tests (all its inputs: data, and\n");
    fprintf(md, "parameters such as shapes, scales and zero points). Quantized models beyond these tests: docs/api.md, \"int8\".\n\n");
    fprintf(md, "| op | tests passing / using it | opsets of passing tests | input types in passing tests |\n|---|---|---|---|\n");
    for (size_t i = 0; i < n_ops; i++) {
      char types[512];
      if (ops[i].max_opset >= 0)
        fprintf(md, "| %s | %d / %d | %lld–%lld | %s |\n", ops[i].name, ops[i].passed, ops[i].claimed,
                (long long)ops[i].min_opset, (long long)ops[i].max_opset, type_list(ops[i].input_types, types, sizeof types));
      else
        fprintf(md, "| %s | %d / %d | – | – |\n", ops[i].name, ops[i].passed, ops[i].claimed);
    }
    fprintf(md, "\nOps registered but exercised by no claimed node test are still listed in `op-defs.inc`;\n");
    fprintf(md, "the table only counts what the suite covers.\n\n## Expected failures\n\n| test | reason |\n|---|---|\n");
    for (size_t i = 0; i < n_expected; i++) fprintf(md, "| %s | %s |\n", expected[i].name, expected[i].reason);
    fclose(md);
  }
  return ofx_test_finish("conformance");
}
