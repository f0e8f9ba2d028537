/* End-to-end natively (under the sanitizers): load an exported torchvision model, extract every
 * node that tests/tools/export_models.py saved a torchvision reference for, and compare.
 * Usage: test-extract MODEL_DIR MODEL_NAME CASE BATCH */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxfx.h"
#include "test-util.h"

static double max_abs(const float *x, size_t n) {
  double m = 0;
  for (size_t i = 0; i < n; i++) m = fmax(m, fabs(x[i]));
  return m;
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: %s MODEL_DIR MODEL CASE BATCH\n", argv[0]);
    return 2;
  }
  const char *dir = argv[1], *model_name = argv[2], *case_name = argv[3];
  int64_t batch = atoll(argv[4]);
  char path[1024];
  size_t model_size, input_size;
  snprintf(path, sizeof path, "%s/%s.onnx", dir, model_name);
  uint8_t *bytes = ofx_test_read_file(path, &model_size);
  snprintf(path, sizeof path, "%s/%s.%s.input.f32", dir, model_name, case_name);
  float *input = (float *)ofx_test_read_file(path, &input_size);
  CHECK(bytes != NULL && input != NULL);
  if (!bytes || !input) return ofx_test_finish("extract");

  ofx_model *model = NULL;
  ofx_status s = ofx_model_load(bytes, model_size, &model);
  if (s != OFX_OK) fprintf(stderr, "load: %s\n", ofx_last_error());
  CHECK(s == OFX_OK);
  if (s != OFX_OK) return ofx_test_finish("extract");

  /* every reference file <model>.<case>.<node>.f32 except the input and the logits */
  char prefix[256];
  snprintf(prefix, sizeof prefix, "%s.%s.", model_name, case_name);
  DIR *d = opendir(dir);
  CHECK(d != NULL);
  struct dirent *e;
  int compared = 0;
  while (d && (e = readdir(d)) != NULL) {
    size_t len = strlen(e->d_name), plen = strlen(prefix);
    if (len <= plen + 4 || strncmp(e->d_name, prefix, plen) != 0 || strcmp(e->d_name + len - 4, ".f32") != 0) continue;
    char node[256];
    snprintf(node, sizeof node, "%.*s", (int)(len - plen - 4), e->d_name + plen);
    if (strcmp(node, "input") == 0 || strcmp(node, "logits") == 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    size_t ref_size;
    float *ref = (float *)ofx_test_read_file(path, &ref_size);
    const char *names[1] = {node};
    ofx_extractor *fx = NULL;
    s = ofx_extractor_create(model, names, 1, 0, &fx);
    if (s != OFX_OK) fprintf(stderr, "%s: create: %s\n", node, ofx_last_error());
    CHECK(s == OFX_OK);
    if (s == OFX_OK) {
      int64_t dims[4] = {batch, 3, 224, 224};
      s = ofx_extractor_set_input(fx, 0, OFX_DTYPE_FLOAT32, dims, 4, input, input_size);
      if (s == OFX_OK) s = ofx_extractor_run(fx);
      if (s != OFX_OK) fprintf(stderr, "%s: run: %s\n", node, ofx_last_error());
      CHECK(s == OFX_OK);
      ofx_tensor_view out;
      if (s == OFX_OK && ofx_extractor_output(fx, 0, &out) == OFX_OK) {
        CHECK(out.size == ref_size);
        size_t n = ref_size / sizeof(float);
        double scale = max_abs(ref, n), worst = 0;
        const float *y = out.data;
        for (size_t i = 0; i < n && out.size == ref_size; i++) worst = fmax(worst, fabs(y[i] - ref[i]));
        double rel = scale > 0 ? worst / scale : worst;
        printf("%-14s %s plan %3zu nodes  max rel err %.2e\n", node, model_name,
               ofx_extractor_planned_node_count(fx), rel);
        CHECK(rel < 1e-4);
        compared++;
      }
      ofx_extractor_free(fx);
    }
    free(ref);
  }
  if (d) closedir(d);
  CHECK(compared > 0);

  /* unknown names fail with NODE_NOT_FOUND and a message naming the node */
  const char *bad[1] = {"layer10"};
  ofx_extractor *fx = NULL;
  s = ofx_extractor_create(model, bad, 1, 0, &fx);
  CHECK(s == OFX_NODE_NOT_FOUND && strstr(ofx_last_error(), "layer10") != NULL);

  ofx_model_free(model);
  free(bytes);
  free(input);
  return ofx_test_finish("extract");
}
