/* Hostile quantization parameters get errors naming node and input, never wrong numbers or an
 * abort, and the library works after them: zero, negative and NaN scales; per-axis scales of the
 * wrong length; an axis out of range; zero points of the wrong type or length; a non-8-bit
 * operand. Plus one good QDQ round trip and a ConvInteger with per-channel weight zero points,
 * checked by hand. Run under AddressSanitizer + UBSan by tests/run.sh. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model-writer.h"
#include "onnxfx.h"
#include "test-util.h"

enum { F32 = OFX_DTYPE_FLOAT32, U8 = OFX_DTYPE_UINT8, I8 = OFX_DTYPE_INT8, I32 = OFX_DTYPE_INT32 };

static const int64_t shape[4] = {1, 2, 2, 2};
static const float x_data[8] = {-1.0f, -0.5f, 0.0f, 0.25f, 0.5f, 1.0f, 2.5f, -3.0f};

typedef struct param {
  int dtype;
  int rank; /* 0: scalar, 1: 1-D */
  size_t count;
  const void *data;
} param;

/* x (float [1,2,2,2]) -> QuantizeLinear(scale, zp, axis) -> DequantizeLinear(scale, zp, axis) -> y.
 * Runs it; returns the status and, when it ran, y in out[8]. */
static ofx_status qdq(param scale, param zp, int64_t axis, float *out, char *error, size_t error_size) {
  model_writer m = {0};
  pb_writer bytes = {0};
  mw_value(&m, 11, "x", F32, shape, 4);
  const int64_t count = (int64_t)scale.count, zcount = (int64_t)zp.count;
  mw_initializer(&m, "scale", scale.dtype, &count, scale.rank, scale.data, scale.count, 4);
  mw_initializer(&m, "zp", zp.dtype, &zcount, zp.rank, zp.data, zp.count, zp.dtype == I32 ? 4 : 1);
  const char *q_in[3] = {"x", "scale", "zp"}, *d_in[3] = {"q", "scale", "zp"};
  mw_node(&m, "QuantizeLinear", "quant", q_in, 3, "q", "axis", axis);
  mw_node(&m, "DequantizeLinear", "dequant", d_in, 3, "y", "axis", axis);
  mw_value(&m, 12, "y", F32, shape, 4);
  ofx_model *model = mw_finish(&m, 13, &bytes);
  CHECK(model != NULL);
  ofx_extractor *fx = NULL;
  const char *request = "dequant";
  ofx_status s = model ? ofx_extractor_create(model, &request, 1, 0, &fx) : OFX_BAD_MODEL;
  if (s == OFX_OK) s = ofx_extractor_set_input(fx, 0, F32, shape, 4, x_data, sizeof x_data);
  if (s == OFX_OK) s = ofx_extractor_run(fx);
  ofx_tensor_view y;
  if (s == OFX_OK && (s = ofx_extractor_output(fx, 0, &y)) == OFX_OK) memcpy(out, y.data, sizeof x_data);
  snprintf(error, error_size, "%s", s == OFX_OK ? "" : ofx_last_error());
  ofx_extractor_free(fx);
  ofx_model_free(model);
  pbw_free(&bytes);
  return s;
}

/* Expects BAD_MODEL or UNSUPPORTED_OP with every `words` in the message. */
static void expect_error(const char *what, param scale, param zp, int64_t axis, const char *const *words, size_t n_words) {
  float y[8];
  char error[1024];
  ofx_status s = qdq(scale, zp, axis, y, error, sizeof error);
  bool ok = s == OFX_BAD_MODEL || s == OFX_UNSUPPORTED_OP;
  for (size_t i = 0; i < n_words; i++) ok = ok && strstr(error, words[i]) != NULL;
  if (!ok) fprintf(stderr, "%s: status %d, message '%s'\n", what, (int)s, error);
  CHECK(ok);
}

static void test_qdq(void) {
  const float good_scale = 0.5f, two_scales[2] = {0.5f, 0.25f}, three[3] = {1, 1, 1};
  const float zero = 0.0f, negative = -0.5f, nan_scale = NAN;
  const uint8_t zp = 10, two_zps[2] = {10, 20};
  const int8_t signed_zp = -3;
  const int32_t wide_zp = 300;
  const param scalar_zp = {U8, 0, 1, &zp};
  float y[8];
  char error[1024];
  /* good: per tensor uint8, per tensor int8, per axis (axis 1) */
  CHECK(qdq((param){F32, 0, 1, &good_scale}, scalar_zp, 1, y, error, sizeof error) == OFX_OK);
  bool ok = true;
  for (int i = 0; i < 8; i++) ok = ok && y[i] == fminf(fmaxf(nearbyintf(x_data[i] / 0.5f) + 10, 0), 255) * 0.5f - 5.0f;
  CHECK(ok);
  CHECK(qdq((param){F32, 0, 1, &good_scale}, (param){I8, 0, 1, &signed_zp}, 1, y, error, sizeof error) == OFX_OK);
  CHECK(y[7] == -3.0f && y[6] == 2.5f);
  CHECK(qdq((param){F32, 1, 2, two_scales}, (param){U8, 1, 2, two_zps}, 1, y, error, sizeof error) == OFX_OK);
  CHECK(y[0] == -1.0f && y[4] == 0.5f && y[7] == -3.0f); /* channel 1: scale 0.25, zp 20 */
  /* hostile */
  const char *scale_words[] = {"quant", "scale", "positive and finite"};
  expect_error("zero scale", (param){F32, 0, 1, &zero}, scalar_zp, 1, scale_words, 3);
  expect_error("negative scale", (param){F32, 0, 1, &negative}, scalar_zp, 1, scale_words, 3);
  expect_error("NaN scale", (param){F32, 0, 1, &nan_scale}, scalar_zp, 1, scale_words, 3);
  const char *length_words[] = {"quant", "scale", "3 elements"};
  expect_error("per-axis scale of the wrong length", (param){F32, 1, 3, three}, (param){U8, 1, 3, "\1\2\3"}, 1, length_words, 3);
  const char *axis_words[] = {"quant", "axis", "out of range"};
  expect_error("axis out of range", (param){F32, 1, 2, two_scales}, (param){U8, 1, 2, two_zps}, 4, axis_words, 3);
  const char *zp_words[] = {"quant", "zero point", "int32"};
  expect_error("zero point of a wide type", (param){F32, 0, 1, &good_scale}, (param){I32, 0, 1, &wide_zp}, 1, zp_words, 3);
  const char *zp_length[] = {"quant", "zero point", "2 elements"};
  expect_error("zero point longer than its scale", (param){F32, 0, 1, &good_scale}, (param){U8, 1, 2, two_zps}, 1, zp_length, 3);
  /* the library still works */
  CHECK(qdq((param){F32, 0, 1, &good_scale}, scalar_zp, 1, y, error, sizeof error) == OFX_OK);
}

/* ConvInteger, 1x1 over 2 channels, weights uint8 with one zero point per output channel. */
static void test_conv_integer(void) {
  model_writer m = {0};
  pb_writer bytes = {0};
  const int64_t xs[4] = {1, 2, 1, 3}, ws[4] = {2, 2, 1, 1}, two = 2;
  const uint8_t w[4] = {130, 120, 7, 9}, w_zp[2] = {128, 5}, x_zp = 100;
  mw_value(&m, 11, "x", U8, xs, 4);
  mw_initializer(&m, "w", U8, ws, 4, w, 4, 1);
  mw_initializer(&m, "x_zp", U8, NULL, 0, &x_zp, 1, 1);
  mw_initializer(&m, "w_zp", U8, &two, 1, w_zp, 2, 1);
  const char *in[4] = {"x", "w", "x_zp", "w_zp"};
  mw_node(&m, "ConvInteger", "conv", in, 4, "y", NULL, 0);
  ofx_model *model = mw_finish(&m, 10, &bytes);
  CHECK(model != NULL);
  ofx_extractor *fx = NULL;
  const char *request = "conv";
  CHECK(model && ofx_extractor_create(model, &request, 1, 0, &fx) == OFX_OK);
  const uint8_t x[6] = {100, 101, 255, 90, 100, 0}; /* channel 0 then channel 1, 3 pixels each */
  ofx_tensor_view y = {0};
  bool ran = fx && ofx_extractor_set_input(fx, 0, U8, xs, 4, x, sizeof x) == OFX_OK && ofx_extractor_run(fx) == OFX_OK &&
             ofx_extractor_output(fx, 0, &y) == OFX_OK;
  if (!ran) fprintf(stderr, "ConvInteger: %s\n", ofx_last_error());
  CHECK(ran && y.dtype == OFX_DTYPE_INT32 && y.size == 6 * sizeof(int32_t));
  if (ran) {
    const int32_t *v = y.data;
    bool ok = true;
    for (int oc = 0; oc < 2; oc++)
      for (int p = 0; p < 3; p++) {
        int32_t want = 0;
        for (int c = 0; c < 2; c++) want += (x[c * 3 + p] - 100) * (w[oc * 2 + c] - w_zp[oc]);
        ok = ok && v[oc * 3 + p] == want;
      }
    CHECK(ok);
  }
  ofx_extractor_free(fx);
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* The dequantizing chain of onnxruntime's quantize_dynamic, as it writes it:
 *   x -> DynamicQuantizeLinear -> (xq, x_scale, x_zp)
 *   ConvInteger(xq, W, x_zp, w_zp) | MatMulInteger(xq, B, x_zp, b_zp) -> Cast(float) -> Mul(., s)
 *   s = Mul(x_scale, w_scale); then Add(., bias) and Relu.
 * Fused (the integer op on the 8-bit GEMM, float out) and unfused (each node on its own) give
 * the same bits, and the fused plan runs 3 steps. */
static void test_dynamic_chain(bool conv) {
  model_writer m = {0};
  pb_writer bytes = {0};
  const int64_t xs4[4] = {1, 3, 6, 5}, xs2[2] = {7, 27}, ws4[4] = {4, 3, 3, 3}, ws2[2] = {27, 4}, bias4[4] = {1, 4, 1, 1}, four = 4;
  mw_value(&m, 11, "x", F32, conv ? xs4 : xs2, conv ? 4 : 2);
  uint8_t w[108];
  for (int i = 0; i < 108; i++) w[i] = (uint8_t)(i * 53 % 256);
  const uint8_t w_zp[4] = {131, 120, 128, 7};
  const float w_scale[4] = {0.02f, 0.015f, 0.03f, 0.01f}, bias[4] = {0.5f, -0.25f, 0.0f, 1.5f};
  mw_initializer(&m, "w", U8, conv ? ws4 : ws2, 2 + 2 * conv, w, 108, 1);
  mw_initializer(&m, "w_zp", U8, &four, conv ? 0 : 1, w_zp, conv ? 1 : 4, 1); /* per tensor (conv), per column (MatMul) */
  mw_initializer(&m, "w_scale", F32, &four, conv ? 0 : 1, w_scale, conv ? 1 : 4, 4);
  mw_initializer(&m, "bias", F32, conv ? bias4 : &four, conv ? 4 : 1, bias, 4, 4);
  const char *dq_in[1] = {"x"};
  pb_writer dq = {0};
  pbw_string_field(&dq, 1, "x");
  pbw_string_field(&dq, 2, "xq"), pbw_string_field(&dq, 2, "x_scale"), pbw_string_field(&dq, 2, "x_zp");
  pbw_string_field(&dq, 3, "x_QuantizeLinear");
  pbw_string_field(&dq, 4, "DynamicQuantizeLinear");
  pbw_message(&m.graph, 1, &dq);
  pbw_free(&dq);
  (void)dq_in;
  const char *int_in[4] = {"xq", "w", "x_zp", "w_zp"}, *cast_in[1] = {"acc"}, *scales_in[2] = {"x_scale", "w_scale"};
  const char *mul_in[2] = {"acc_cast", "s"}, *add_in[2] = {"scaled", "bias"}, *relu_in[1] = {"y"};
  const int64_t pads[4] = {1, 0, 1, 2};
  if (conv) mw_node_ints(&m, "ConvInteger", "conv_quant", int_in, 4, "acc", "pads", pads, 4);
  else mw_node(&m, "MatMulInteger", "matmul_quant", int_in, 4, "acc", NULL, 0);
  mw_node(&m, "Cast", "acc_cast_node", cast_in, 1, "acc_cast", "to", 1);
  mw_node(&m, "Mul", "scales_mul", scales_in, 2, "s", NULL, 0);
  mw_node(&m, "Mul", "output_scale_mul", mul_in, 2, "scaled", NULL, 0);
  mw_node(&m, "Add", "bias_add", add_in, 2, "y", NULL, 0);
  mw_node(&m, "Relu", "relu", relu_in, 1, "r", NULL, 0);
  ofx_model *model = mw_finish(&m, 13, &bytes);
  CHECK(model != NULL);
  float x[7 * 27];
  for (int i = 0; i < 7 * 27; i++) x[i] = sinf((float)i * 0.37f) * 3.0f - 0.4f;
  const size_t x_bytes = (conv ? 90 : 189) * sizeof(float);
  const char *request = "relu";
  ofx_extractor *fx[2] = {NULL, NULL};
  ofx_tensor_view y[2] = {{0}, {0}};
  for (int f = 0; f < 2 && model; f++) {
    bool ok = ofx_extractor_create(model, &request, 1, f ? OFX_EXTRACTOR_NO_FUSION : 0, &fx[f]) == OFX_OK &&
              ofx_extractor_set_input(fx[f], 0, F32, conv ? xs4 : xs2, conv ? 4 : 2, x, x_bytes) == OFX_OK &&
              ofx_extractor_run(fx[f]) == OFX_OK && ofx_extractor_output(fx[f], 0, &y[f]) == OFX_OK;
    if (!ok) fprintf(stderr, "%s chain (%s): %s\n", conv ? "ConvInteger" : "MatMulInteger", f ? "unfused" : "fused", ofx_last_error());
    CHECK(ok);
  }
  if (y[0].data && y[1].data) {
    const size_t want = (conv ? 4 * 6 * 5 : 7 * 4) * sizeof(float); /* pads: rows 1 + 1, columns 0 + 2 */
    const bool sized = y[0].size == want && y[1].size == want;
    CHECK(sized && memcmp(y[0].data, y[1].data, want) == 0);
    if (sized && memcmp(y[0].data, y[1].data, want) != 0)
      for (size_t i = 0; i < 6; i++) fprintf(stderr, "  %zu: fused %g unfused %g\n", i, ((const float *)y[0].data)[i], ((const float *)y[1].data)[i]);
    bool some_positive = false;
    for (size_t i = 0; sized && i < want / sizeof(float); i++) some_positive |= ((const float *)y[0].data)[i] > 0;
    CHECK(some_positive);
    char *text = NULL;
    CHECK(ofx_extractor_explain(fx[0], &text) == OFX_OK);
    if (text) {
      CHECK(strstr(text, "steps: 2 run") != NULL); /* DynamicQuantizeLinear, the integer op */
      CHECK(strstr(text, "+bias_add(Add)") != NULL && strstr(text, "+relu(Relu)") != NULL);
      if (!strstr(text, "steps: 2 run")) fputs(text, stderr);
      ofx_free(text);
    }
  }
  ofx_extractor_free(fx[0]);
  ofx_extractor_free(fx[1]);
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* A QDQ model as static quantizers write it: x -> QuantizeLinear -> DequantizeLinear -> Conv |
 * MatMul, weights DequantizeLinear(int8, per output channel) folded at load, float bias, Relu.
 * Fused, the op reads x and runs on the 8-bit GEMM (Q, DQ and Relu skipped: 1 step runs);
 * unfused, every node runs in float. Both match the exact value s_x * s_w[j] * sum (xq - zp) wq
 * + b within float rounding of that one product. */
static void test_qdq_chain(bool conv) {
  model_writer m = {0};
  pb_writer bytes = {0};
  const int64_t xs4[4] = {1, 3, 6, 5}, xs2[2] = {7, 27}, ws4[4] = {4, 3, 3, 3}, ws2[2] = {27, 4}, four = 4;
  mw_value(&m, 11, "x", F32, conv ? xs4 : xs2, conv ? 4 : 2);
  int8_t w[108];
  for (int i = 0; i < 108; i++) w[i] = (int8_t)((i * 53) % 255 - 127);
  const int8_t w_zp[4] = {0, 0, 0, 0};
  const float w_scale[4] = {0.02f, 0.015f, 0.03f, 0.01f}, bias[4] = {0.5f, -0.25f, 0.0f, 1.5f}, x_scale = 0.03f;
  const uint8_t x_zp = 120;
  mw_initializer(&m, "w_q", I8, conv ? ws4 : ws2, 2 + 2 * conv, w, 108, 1);
  mw_initializer(&m, "w_zp", I8, &four, 1, w_zp, 4, 1);
  mw_initializer(&m, "w_scale", F32, &four, 1, w_scale, 4, 4);
  mw_initializer(&m, "bias", F32, &four, 1, bias, 4, 4);
  mw_initializer(&m, "x_scale", F32, NULL, 0, &x_scale, 1, 4);
  mw_initializer(&m, "x_zp", U8, NULL, 0, &x_zp, 1, 1);
  const char *q_in[3] = {"x", "x_scale", "x_zp"}, *dq_in[3] = {"x_q", "x_scale", "x_zp"}, *w_in[3] = {"w_q", "w_scale", "w_zp"};
  mw_node(&m, "QuantizeLinear", "x_QuantizeLinear", q_in, 3, "x_q", NULL, 0);
  mw_node(&m, "DequantizeLinear", "x_DequantizeLinear", dq_in, 3, "x_dq", NULL, 0);
  mw_node(&m, "DequantizeLinear", "w_DequantizeLinear", w_in, 3, "w", "axis", conv ? 0 : 1);
  const char *conv_in[3] = {"x_dq", "w", "bias"}, *relu_in[1] = {"y"};
  const int64_t pads[4] = {1, 0, 1, 2};
  if (conv) mw_node_ints(&m, "Conv", "conv", conv_in, 3, "y", "pads", pads, 4);
  else mw_node(&m, "MatMul", "matmul", conv_in, 2, "y", NULL, 0);
  mw_node(&m, "Relu", "relu", relu_in, 1, "r", NULL, 0);
  ofx_model *model = mw_finish(&m, 13, &bytes);
  CHECK(model != NULL);
  float x[7 * 27];
  for (int i = 0; i < 7 * 27; i++) x[i] = sinf((float)i * 0.37f) * 3.0f - 0.4f;
  const size_t x_bytes = (conv ? 90 : 189) * sizeof(float);
  const char *request = "relu";
  ofx_extractor *fx[2] = {NULL, NULL};
  ofx_tensor_view y[2] = {{0}, {0}};
  for (int f = 0; f < 2 && model; f++) {
    bool ok = ofx_extractor_create(model, &request, 1, f ? OFX_EXTRACTOR_NO_FUSION : 0, &fx[f]) == OFX_OK &&
              ofx_extractor_set_input(fx[f], 0, F32, conv ? xs4 : xs2, conv ? 4 : 2, x, x_bytes) == OFX_OK &&
              ofx_extractor_run(fx[f]) == OFX_OK && ofx_extractor_output(fx[f], 0, &y[f]) == OFX_OK;
    if (!ok) fprintf(stderr, "QDQ %s (%s): %s\n", conv ? "Conv" : "MatMul", f ? "unfused" : "fused", ofx_last_error());
    CHECK(ok);
  }
  if (y[0].data && y[1].data) {
    const size_t count = conv ? 4 * 6 * 5 : 7 * 4; /* pads: rows 1 + 1, columns 0 + 2 */
    CHECK(y[0].size == count * sizeof(float) && y[1].size == count * sizeof(float));
    int xq[7 * 27];
    for (int i = 0; i < 7 * 27; i++) {
      float q = nearbyintf(x[i] / x_scale) + x_zp;
      xq[i] = (int)(q < 0 ? 0 : q > 255 ? 255 : q) - x_zp;
    }
    double worst[2] = {0, 0};
    bool some_positive = false;
    for (size_t e = 0; e < count && y[0].size == count * sizeof(float); e++) {
      long acc = 0;
      size_t j;
      if (conv) { /* e = (oc * 6 + oy) * 5 + ox over padded input rows -1..6, columns 0..6 */
        j = e / 30;
        const int oy = (int)(e / 5 % 6), ox = (int)(e % 5);
        for (int c = 0; c < 3; c++)
          for (int ky = 0; ky < 3; ky++)
            for (int kx = 0; kx < 3; kx++) {
              const int iy = oy + ky - 1, ix = ox + kx;
              if (iy < 0 || iy >= 6 || ix >= 5) continue;
              acc += (long)xq[(c * 6 + iy) * 5 + ix] * w[((j * 3 + (size_t)c) * 3 + (size_t)ky) * 3 + (size_t)kx];
            }
      } else {
        j = e % 4;
        for (size_t k = 0; k < 27; k++) acc += (long)xq[e / 4 * 27 + k] * w[k * 4 + j];
      }
      double want = (double)x_scale * w_scale[j] * (double)acc + (conv ? bias[j] : 0.0);
      want = want > 0 ? want : 0;
      for (int f = 0; f < 2; f++) {
        const double d = fabs(((const float *)y[f].data)[e] - want);
        if (d > worst[f]) worst[f] = d;
      }
      some_positive |= want > 0;
    }
    CHECK(some_positive);
    CHECK(worst[0] < 1e-5 && worst[1] < 1e-4);
    if (!(worst[0] < 1e-5 && worst[1] < 1e-4)) fprintf(stderr, "QDQ %s: off by %g fused, %g unfused\n", conv ? "Conv" : "MatMul", worst[0], worst[1]);
    char *text = NULL;
    CHECK(ofx_extractor_explain(fx[0], &text) == OFX_OK);
    if (text) {
      CHECK(strstr(text, "steps: 1 run") != NULL); /* the 8-bit op; Q, DQ and Relu fused into it */
      if (!strstr(text, "steps: 1 run")) fputs(text, stderr);
      ofx_free(text);
    }
  }
  ofx_extractor_free(fx[0]);
  ofx_extractor_free(fx[1]);
  ofx_model_free(model);
  pbw_free(&bytes);
}

/* QLinearConv / QLinearMatMul with constant parameters run on the 8-bit GEMM and requantize its
 * float result; with y_scale a graph input they run the exact int32 reference. The two agree
 * within one step, at rounding ties of the float scale product (most elements exactly). */
static void test_qlinear_fast(bool conv) {
  model_writer m = {0};
  pb_writer bytes = {0};
  const int64_t xs4[4] = {1, 3, 6, 5}, xs2[2] = {7, 27}, ws4[4] = {4, 3, 3, 3}, ws2[2] = {27, 4}, four = 4;
  mw_value(&m, 11, "x", U8, conv ? xs4 : xs2, conv ? 4 : 2);
  mw_value(&m, 11, "y_scale_in", F32, NULL, 0);
  int8_t w[108];
  for (int i = 0; i < 108; i++) w[i] = (int8_t)((i * 53) % 255 - 127);
  const int8_t w_zp[4] = {0, 0, 0, 0};
  const int32_t bias[4] = {500, -250, 0, 1500};
  const float w_scale[4] = {0.02f, 0.015f, 0.03f, 0.01f}, x_scale = 0.03f, y_scale = 0.5f;
  const uint8_t x_zp = 120, y_zp = 100;
  mw_initializer(&m, "w", I8, conv ? ws4 : ws2, 2 + 2 * conv, w, 108, 1);
  mw_initializer(&m, "w_zp", I8, &four, conv, w_zp, conv ? 4 : 1, 1); /* per channel (conv), per tensor (MatMul) */
  mw_initializer(&m, "w_scale", F32, &four, conv, w_scale, conv ? 4 : 1, 4);
  mw_initializer(&m, "bias", I32, &four, 1, bias, 4, 4);
  mw_initializer(&m, "x_scale", F32, NULL, 0, &x_scale, 1, 4);
  mw_initializer(&m, "x_zp", U8, NULL, 0, &x_zp, 1, 1);
  mw_initializer(&m, "y_scale", F32, NULL, 0, &y_scale, 1, 4);
  mw_initializer(&m, "y_zp", U8, NULL, 0, &y_zp, 1, 1);
  const char *fast_in[9] = {"x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale", "y_zp", "bias"};
  const char *ref_in[9] = {"x", "x_scale", "x_zp", "w", "w_scale", "w_zp", "y_scale_in", "y_zp", "bias"};
  const int64_t pads[4] = {1, 0, 1, 2};
  if (conv) {
    mw_node_ints(&m, "QLinearConv", "fast", fast_in, 9, "y_fast", "pads", pads, 4);
    mw_node_ints(&m, "QLinearConv", "reference", ref_in, 9, "y_ref", "pads", pads, 4);
  } else {
    mw_node(&m, "QLinearMatMul", "fast", fast_in, 8, "y_fast", NULL, 0);
    mw_node(&m, "QLinearMatMul", "reference", ref_in, 8, "y_ref", NULL, 0);
  }
  ofx_model *model = mw_finish(&m, 13, &bytes);
  CHECK(model != NULL);
  uint8_t x[7 * 27];
  for (int i = 0; i < 7 * 27; i++) x[i] = (uint8_t)(i * 97 % 256);
  const char *request[2] = {"fast", "reference"};
  ofx_extractor *fx = NULL;
  ofx_tensor_view y[2] = {{0}, {0}};
  bool ok = model && ofx_extractor_create(model, request, 2, 0, &fx) == OFX_OK &&
            ofx_extractor_set_input(fx, 0, U8, conv ? xs4 : xs2, conv ? 4 : 2, x, conv ? 90 : 189) == OFX_OK &&
            ofx_extractor_set_input(fx, 1, F32, NULL, 0, &y_scale, sizeof y_scale) == OFX_OK && ofx_extractor_run(fx) == OFX_OK &&
            ofx_extractor_output(fx, 0, &y[0]) == OFX_OK && ofx_extractor_output(fx, 1, &y[1]) == OFX_OK;
  if (!ok) fprintf(stderr, "%s: %s\n", conv ? "QLinearConv" : "QLinearMatMul", ofx_last_error());
  CHECK(ok);
  const size_t count = conv ? 4 * 6 * 5 : 7 * 4;
  if (ok && y[0].size == count && y[1].size == count) {
    size_t differ = 0, far = 0, spread = 0;
    for (size_t e = 0; e < count; e++) {
      const int a = ((const uint8_t *)y[0].data)[e], b = ((const uint8_t *)y[1].data)[e];
      differ += a != b, far += abs(a - b) > 1, spread += a != 0 && a != 255;
    }
    CHECK(far == 0 && differ * 20 <= count && spread * 2 >= count); /* within one step, rarely off, mostly unsaturated */
    if (far || differ * 20 > count || spread * 2 < count)
      fprintf(stderr, "%s: %zu of %zu differ, %zu by more than 1, %zu unsaturated\n", conv ? "QLinearConv" : "QLinearMatMul", differ, count, far, spread);
  } else {
    CHECK(!ok);
  }
  char *text = NULL;
  if (fx && ofx_extractor_explain(fx, &text) == OFX_OK) {
    CHECK(strstr(text, "packed") != NULL);
    ofx_free(text);
  }
  ofx_extractor_free(fx);
  ofx_model_free(model);
  pbw_free(&bytes);
}

int main(void) {
  test_qdq();
  test_conv_integer();
  test_dynamic_chain(true);
  test_dynamic_chain(false);
  test_qdq_chain(true);
  test_qdq_chain(false);
  test_qlinear_fast(true);
  test_qlinear_fast(false);
  return ofx_test_finish("quantize");
}
