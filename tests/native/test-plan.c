/* The planner's passes on small models written here: wide Concat/Sum (more inputs than any
 * fixed-width mask holds: DenseNet-169 has 33, DenseNet-201 49), fusion on and off, views that
 * share memory, folding of constant-only subgraphs, and explain()'s text.
 * Run under AddressSanitizer + UBSan by tests/run.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-writer.h"
#include "onnxfx.h"
#include "runtime/extractor-internal.h"
#include "runtime/plan.h"
#include "test-util.h"

/* float32 shorthands over model-writer.h */
static void value_info(model_writer *m, uint32_t field, const char *name, const int64_t *dims, int rank) {
  mw_value(m, field, name, OFX_DTYPE_FLOAT32, dims, rank);
}
static void initializer(model_writer *m, const char *name, const int64_t *dims, int rank, const float *data, size_t count) {
  mw_initializer(m, name, OFX_DTYPE_FLOAT32, dims, rank, data, count, sizeof(float));
}
static ofx_model *finish(model_writer *m, pb_writer *bytes) {
  ofx_model *model = mw_finish(m, 13, bytes);
  CHECK(model != NULL);
  return model;
}

static const int64_t image[4] = {1, 2, 3, 3};
#define IMAGE_NUMEL 18

static float input_value(size_t i) { return (float)((int)(i * 7 % 11) - 5) * 0.25f; }

/* Runs `fx` on x (shape `image`); returns output 0's data (owned by fx) or NULL. */
static const float *run(ofx_extractor *fx, ofx_tensor_view *view) {
  float x[IMAGE_NUMEL];
  for (size_t i = 0; i < IMAGE_NUMEL; i++) x[i] = input_value(i);
  if (ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT32, image, 4, x, sizeof x) != OFX_OK ||
      ofx_extractor_run(fx) != OFX_OK || ofx_extractor_output(fx, 0, view) != OFX_OK) {
    fprintf(stderr, "run: %s\n", ofx_last_error());
    return NULL;
  }
  return view->data;
}

/* ---- wide Concat and Sum: inputs past any 32- or 64-bit mask ---- */

static void test_wide(const char *op, size_t n) {
  model_writer m = {0};
  pb_writer bytes = {0};
  value_info(&m, 11, "x", image, 4);
  char (*names)[16] = calloc(n, sizeof *names);
  const char **inputs = calloc(n, sizeof *inputs);
  float *c = malloc(IMAGE_NUMEL * sizeof *c);
  for (size_t i = 0; i < n; i++) {
    /* even inputs computed from x (Mul by i+1), odd ones constants (c_i = i) */
    snprintf(names[i], sizeof names[i], "v%zu", i);
    inputs[i] = names[i];
    char scale[16];
    snprintf(scale, sizeof scale, "s%zu", i);
    float s = (float)(i + 1);
    for (size_t e = 0; e < IMAGE_NUMEL; e++) c[e] = (float)i;
    if (i % 2 == 0) {
      initializer(&m, scale, NULL, 0, &s, 1);
      const char *mul_in[2] = {"x", scale};
      mw_node(&m, "Mul", names[i], mul_in, 2, names[i], NULL, 0);
    } else {
      initializer(&m, names[i], image, 4, c, IMAGE_NUMEL);
    }
  }
  bool concat = strcmp(op, "Concat") == 0;
  mw_node(&m, op, "wide", inputs, n, "y", concat ? "axis" : NULL, 1);
  int64_t out_dims[4] = {1, concat ? (int64_t)(2 * n) : 2, 3, 3};
  value_info(&m, 12, "y", out_dims, 4);
  ofx_model *model = finish(&m, &bytes);
  ofx_extractor *fx = NULL;
  const char *request = "wide";
  if (model && ofx_extractor_create(model, &request, 1, 0, &fx) != OFX_OK) fprintf(stderr, "%s: %s\n", op, ofx_last_error());
  CHECK(fx != NULL);
  ofx_tensor_view view;
  const float *y = fx ? run(fx, &view) : NULL;
  CHECK(y != NULL);
  if (y) {
    CHECK(view.size == (size_t)(concat ? 2 * n : 2) * 9 * sizeof(float));
    bool ok = true;
    for (size_t e = 0; e < IMAGE_NUMEL; e++) {
      float sum = 0;
      for (size_t i = 0; i < n; i++) {
        float v = i % 2 == 0 ? input_value(e) * (float)(i + 1) : (float)i;
        if (concat && fabsf(y[i * IMAGE_NUMEL + e] - v) > 1e-5f) ok = false;
        sum += v;
      }
      if (!concat && fabsf(y[e] - sum) > 1e-3f * fabsf(sum) + 1e-4f) ok = false;
    }
    if (!ok) fprintf(stderr, "%s of %zu inputs: wrong values\n", op, n);
    CHECK(ok);
  }
  ofx_extractor_free(fx);
  ofx_model_free(model);
  pbw_free(&bytes);
  free(names);
  free(inputs);
  free(c);
}

/* ---- fusion, views, folding, explain ---- */

/* Two branches from x:
 *   x -> Relu (pre) -> Flatten (flatten, a view) -> Relu (head)
 *   x -> Conv(w, 1x1) (conv) -> Relu (relu, fused) -> Add (add) with a constant-only branch
 *   k -> Relu (k_relu) -> GlobalAveragePool (k_pool), 1152 elements: folded whatever its size. */
static ofx_model *conv_model(pb_writer *bytes) {
  model_writer m = {0};
  value_info(&m, 11, "x", image, 4);
  float w[4] = {1, -1, 0.5f, 2}; /* [2, 2, 1, 1] */
  int64_t w_dims[4] = {2, 2, 1, 1};
  initializer(&m, "w", w_dims, 4, w, 4);
  static float k[2 * 24 * 24];
  int64_t k_dims[4] = {1, 2, 24, 24};
  for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) k[i] = (float)((int)(i % 5) - 1);
  initializer(&m, "k", k_dims, 4, k, sizeof k / sizeof k[0]);
  const char *x_in[1] = {"x"}, *p_in[1] = {"p"}, *f_in[1] = {"f"}, *c_in[1] = {"c"}, *k_in[1] = {"k"}, *kr_in[1] = {"kr"};
  const char *conv_in[2] = {"x", "w"}, *add_in[2] = {"r", "kp"};
  mw_node(&m, "Relu", "pre", x_in, 1, "p", NULL, 0);
  mw_node(&m, "Flatten", "flatten", p_in, 1, "f", "axis", 1);
  mw_node(&m, "Relu", "head", f_in, 1, "h", NULL, 0);
  mw_node(&m, "Conv", "conv", conv_in, 2, "c", NULL, 0);
  mw_node(&m, "Relu", "relu", c_in, 1, "r", NULL, 0);
  mw_node(&m, "Relu", "k_relu", k_in, 1, "kr", NULL, 0);
  mw_node(&m, "GlobalAveragePool", "k_pool", kr_in, 1, "kp", NULL, 0);
  mw_node(&m, "Add", "add", add_in, 2, "a", NULL, 0);
  int64_t h_dims[2] = {1, IMAGE_NUMEL};
  value_info(&m, 12, "h", h_dims, 2);
  value_info(&m, 12, "a", image, 4);
  return finish(&m, bytes);
}

static size_t step_of(const ofx_plan *plan, const char *name) {
  for (size_t i = 0; i < plan->n_steps; i++)
    if (strcmp(plan->steps[i].node->name, name) == 0) return i;
  return SIZE_MAX;
}

/* Constants only: folded when the model loads (no step), or else at plan time. */
static bool folded(const ofx_plan *plan, const char *name) {
  size_t i = step_of(plan, name);
  return i == SIZE_MAX || plan->state[i] == OFX_STEP_FOLDED;
}

static void test_passes(void) {
  pb_writer bytes = {0};
  ofx_model *model = conv_model(&bytes);
  if (!model) return;
  const char *requests[2] = {"head", "add"};
  ofx_extractor *fused = NULL, *plain = NULL;
  CHECK(ofx_extractor_create(model, requests, 2, 0, &fused) == OFX_OK);
  CHECK(ofx_extractor_create(model, requests, 2, OFX_EXTRACTOR_NO_FUSION, &plain) == OFX_OK);
  if (!fused || !plain) return;
  char *text = NULL;
  CHECK(ofx_extractor_explain(fused, &text) == OFX_OK); /* declared shapes are static */
  if (text) {
    CHECK(strstr(text, "+relu(Relu)") != NULL);     /* fused into conv */
    CHECK(strstr(text, "fused 1") != NULL);
    CHECK(strstr(text, "views 1") != NULL);         /* flatten */
    CHECK(strstr(text, "conv ") != NULL && strstr(text, "head ") != NULL);
    CHECK(strstr(text, "k_relu ") == NULL);        /* folded: no line */
    CHECK(strstr(text, "packed weights 0 bytes") == NULL); /* conv's */
    CHECK(strstr(text, "over conv") != NULL);              /* add writes over conv's dead output */
    if (!strstr(text, "over conv")) fputs(text, stderr);
    ofx_free(text);
  }
  ofx_tensor_view early;
  CHECK(ofx_extractor_output(fused, 0, &early) != OFX_OK); /* planned by explain, not run yet */
  const ofx_plan *p = ofx_extractor_plan(fused);
  CHECK(p->state[step_of(p, "relu")] == OFX_STEP_FUSED);
  CHECK(p->state[step_of(p, "flatten")] == OFX_STEP_VIEW);
  CHECK(folded(p, "k_relu") && folded(p, "k_pool"));
  ofx_tensor_view a, b;
  const float *h_fused = run(fused, &a), *h_plain = run(plain, &b);
  CHECK(h_fused && h_plain);
  if (h_fused && h_plain) {
    bool same = a.size == b.size && memcmp(h_fused, h_plain, a.size) == 0;
    CHECK(same);
    /* head = relu(x) flattened */
    bool ok = true;
    for (size_t e = 0; e < IMAGE_NUMEL; e++)
      if (h_fused[e] != fmaxf(input_value(e), 0)) ok = false;
    CHECK(ok);
  }
  /* add = relu(conv(x)) + mean(relu(k)) per channel */
  float kp[2] = {0, 0};
  for (size_t i = 0; i < 2 * 576; i++) kp[i / 576] += fmaxf((float)((int)(i % 5) - 1), 0) / 576;
  ofx_tensor_view add;
  const float *y = ofx_extractor_output(plain, 1, &add) == OFX_OK ? add.data : NULL;
  CHECK(y != NULL);
  if (y) {
    bool ok = true;
    for (size_t e = 0; e < 9; e++) {
      float x0 = input_value(e), x1 = input_value(9 + e);
      float c0 = fmaxf(x0 - x1, 0), c1 = fmaxf(0.5f * x0 + 2 * x1, 0);
      if (fabsf(y[e] - c0 - kp[0]) > 1e-5f || fabsf(y[9 + e] - c1 - kp[1]) > 1e-5f) ok = false;
    }
    CHECK(ok);
    ofx_tensor_view fused_add;
    CHECK(ofx_extractor_output(fused, 1, &fused_add) == OFX_OK && fused_add.size == add.size &&
          memcmp(fused_add.data, add.data, add.size) == 0); /* in place and fused: the same values */
  }
  const ofx_plan *q = ofx_extractor_plan(plain);
  CHECK(q->state[step_of(q, "relu")] == OFX_STEP_RUNS);
  text = NULL;
  CHECK(ofx_extractor_explain(plain, &text) == OFX_OK);
  if (text) {
    CHECK(strstr(text, "fused 0") != NULL);
    CHECK(strstr(text, "+relu") == NULL);
    ofx_free(text);
  }
  ofx_extractor_free(fused);
  ofx_extractor_free(plain);
  /* a requested value is never fused away: with conv requested, relu runs on its own; a
   * requested activation is fused (its value is the producer's output) */
  const char *both[2] = {"conv", "relu"};
  for (size_t n = 1; n <= 2; n++) {
    ofx_extractor *fx = NULL;
    CHECK(ofx_extractor_create(model, both + 2 - n, n, 0, &fx) == OFX_OK);
    if (!fx) continue;
    const ofx_plan *k = ofx_extractor_plan(fx);
    CHECK(k->state[step_of(k, "relu")] == (n == 2 ? OFX_STEP_RUNS : OFX_STEP_FUSED));
    ofx_tensor_view r;
    const float *y = run(fx, &r);
    CHECK(y != NULL && ofx_extractor_output(fx, n - 1, &r) == OFX_OK);
    if (y && n == 2) CHECK(((const float *)r.data)[0] == fmaxf(input_value(0) - input_value(9), 0));
    ofx_extractor_free(fx);
  }
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* ---- create progress (ofx_set_create_progress): bytes of constants read, pruned to the kept nodes ---- */

typedef struct progress_log {
  size_t calls;
  uint64_t last_done, last_total;
  bool monotonic;
} progress_log;

static void log_progress(void *ctx, uint64_t done, uint64_t total) {
  progress_log *log = ctx;
  if (done < log->last_done || done > total || (log->calls && total != log->last_total)) log->monotonic = false;
  log->calls++, log->last_done = done, log->last_total = total;
}

static void test_progress(void) {
  enum { LAYERS = 300 };
  model_writer m = {0};
  pb_writer bytes = {0};
  value_info(&m, 11, "x", image, 4);
  float w[IMAGE_NUMEL];
  for (size_t i = 0; i < IMAGE_NUMEL; i++) w[i] = 1.0f + (float)i / 64;
  char prev[16] = "x";
  for (size_t i = 0; i < LAYERS; i++) { /* x * w0 * w1 * ...: one 72-byte weight a node */
    char name[16], weight[16];
    snprintf(name, sizeof name, "mul%zu", i);
    snprintf(weight, sizeof weight, "w%zu", i);
    initializer(&m, weight, image, 4, w, IMAGE_NUMEL);
    const char *in[2] = {prev, weight};
    mw_node(&m, "Mul", name, in, 2, name, NULL, 0);
    snprintf(prev, sizeof prev, "%s", name);
  }
  value_info(&m, 12, prev, image, 4);
  ofx_model *model = finish(&m, &bytes);
  const size_t ends[2] = {LAYERS - 1, 99}; /* the whole chain, then pruned to its first 100 nodes */
  for (size_t t = 0; t < 2 && model; t++) {
    progress_log log = {.monotonic = true};
    ofx_set_create_progress(log_progress, &log);
    char name[16];
    snprintf(name, sizeof name, "mul%zu", ends[t]);
    const char *names[1] = {name};
    ofx_extractor *fx = NULL;
    CHECK(ofx_extractor_create(model, names, 1, 0, &fx) == OFX_OK);
    ofx_set_create_progress(NULL, NULL);
    const uint64_t want = (uint64_t)(ends[t] + 1) * sizeof w;
    CHECK(log.monotonic);
    CHECK(log.last_done == want && log.last_total == want); /* ends at the kept nodes' constants */
    CHECK(log.calls >= 2 && log.calls <= 102);              /* about every 1%, not every node */
    ofx_extractor_free(fx);
  }
  ofx_extractor *fx = NULL; /* none set: nothing is called */
  const char *last[1] = {"mul0"};
  CHECK(model && ofx_extractor_create(model, last, 1, 0, &fx) == OFX_OK);
  ofx_extractor_free(fx);
  ofx_model_free(model);
  pbw_free(&bytes);
}

int main(void) {
  test_progress();
  test_wide("Concat", 40);
  test_wide("Concat", 64);
  test_wide("Sum", 40);
  test_wide("Sum", 64);
  test_passes();
  return ofx_test_finish("plan");
}
