/* Gemm: Y = alpha * A' * B' + beta * C. With B constant and C absent, a scalar or a constant
 * row, alpha * B' and beta * C are packed at init for the GEMM micro-kernels (bias first per
 * block of nr columns) and run by ofx_f32_gemm over the pool's threads.
 * Otherwise (B or C computed, C a matrix or column) a plain loop reads them at run time. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "ops/op.h"
#include "ops/packed-weights.h"
#include "ops/typed.h"

typedef struct gemm_state {
  bool dynamic; /* the plain-loop path */
  float alpha, beta;
  int64_t trans_b;
  ofx_bcast c_bcast;
  int64_t trans_a;
  size_t n, k;
  float *bias;    /* [n], beta folded in; NULL without C */
  ofx_packed_weights packed; /* B (times alpha) and bias packed for the GEMM kernels */
} gemm_state;

static void gemm_destroy(ofx_op *op) {
  gemm_state *s = op->state;
  if (s == NULL) return;
  free(s->bias);
  ofx_packed_weights_free(&s->packed);
  free(s);
}

static float load_f32(const void *base, size_t i) {
  float v;
  memcpy(&v, (const char *)base + i * sizeof v, sizeof v); /* constants may be unaligned */
  return v;
}

static ofx_status gemm_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(gemm_state)));
  gemm_state *s = op->state;
  float alpha, beta;
  int64_t trans_b;
  OFX_TRY(ofx_node_attr_float(op->node, "alpha", 1.0f, &alpha));
  OFX_TRY(ofx_node_attr_float(op->node, "beta", 1.0f, &beta));
  OFX_TRY(ofx_node_attr_int(op->node, "transA", 0, &s->trans_a));
  OFX_TRY(ofx_node_attr_int(op->node, "transB", 0, &trans_b));
  s->alpha = alpha;
  s->beta = beta;
  s->trans_b = trans_b;
  const ofx_value *b = ofx_op_const_input(op, 1);
  const ofx_value *c = ofx_op_const_input(op, 2);
  if (b == NULL || b->dtype != OFX_DTYPE_FLOAT32 || b->rank != 2 ||
      (ofx_op_has_input(op, 2) && (c == NULL || c->dtype != OFX_DTYPE_FLOAT32))) {
    s->dynamic = true; /* validated at reshape */
    return OFX_OK;
  }
  s->k = (size_t)(trans_b ? b->dims[1] : b->dims[0]);
  s->n = (size_t)(trans_b ? b->dims[0] : b->dims[1]);
  ofx_op_mark_input(op, 1, OFX_INPUT_PACKED);
  if (ofx_op_has_input(op, 2)) {
    const ofx_value *c = ofx_op_const_input(op, 2);
    if (c == NULL || c->dtype != OFX_DTYPE_FLOAT32)
      return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input C must be a constant float32 tensor");
    size_t count = c->nbytes / sizeof(float);
    bool row = (c->rank == 1 && count == s->n) || (c->rank == 2 && c->dims[0] == 1 && (size_t)c->dims[1] == s->n);
    if (!(count == 1 || row)) {
      s->dynamic = true; /* a matrix or column C */
      ofx_op_unmark_input(op, 1, OFX_INPUT_PACKED);
      return OFX_OK;
    }
    s->bias = malloc((s->n ? s->n : 1) * sizeof(float));
    if (s->bias == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
    for (size_t j = 0; j < s->n; j++) s->bias[j] = beta * load_f32(c->data, count == 1 ? 0 : j);
    ofx_op_mark_input(op, 2, OFX_INPUT_PACKED);
  }
  const size_t nr = ofx_kernels()->gemm_nr;
  const size_t count = ofx_x32_packw_gemm_size(s->n, s->k, nr);
  float *packed = malloc((count + 1) * sizeof(float));
  if (packed == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
  /* straight from the (possibly unaligned) model bytes, then alpha on the weight rows only */
  if (trans_b)
    ofx_x32_packw_gemm_goi(s->n, s->k, nr, b->data, s->bias, packed);
  else
    ofx_x32_packw_gemm_gio(s->n, s->k, nr, b->data, s->bias, packed);
  if (alpha != 1.0f) {
    float *p = packed;
    for (size_t j0 = 0; j0 < s->n; j0 += nr) {
      p += nr; /* the block's biases */
      for (size_t i = 0; i < s->k * nr; i++, p++) *p *= alpha;
    }
  }
  return ofx_packed_weights_keep(op, packed, count, &s->packed);
}

static ofx_status gemm_dynamic_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  gemm_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, 2));
  OFX_TRY(ofx_op_check_input(op, in, 1, OFX_DTYPE_FLOAT32, 2));
  size_t k = (size_t)(s->trans_a ? in[0].dims[0] : in[0].dims[1]), m = (size_t)(s->trans_a ? in[0].dims[1] : in[0].dims[0]);
  size_t kb = (size_t)(s->trans_b ? in[1].dims[1] : in[1].dims[0]), n = (size_t)(s->trans_b ? in[1].dims[0] : in[1].dims[1]);
  if (k != kb) return ofx_op_error(op, OFX_BAD_INPUT, "input A has inner dim %zu, B has %zu", k, kb);
  s->k = k;
  s->n = n;
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 2;
  out[0].dims[0] = (int64_t)m;
  out[0].dims[1] = (int64_t)n;
  if (ofx_op_has_input(op, 2)) {
    OFX_TRY(ofx_op_check_input(op, in, 2, OFX_DTYPE_FLOAT32, -1));
    if (in[2].rank > 2) return ofx_op_error(op, OFX_BAD_INPUT, "input C must have rank 2 or less");
    const ofx_tensor *t[2] = {&out[0], &in[2]};
    ofx_tensor shape;
    OFX_TRY(ofx_bcast_init(op, t, 2, &s->c_bcast, &shape));
    if (shape.dims[0] != out[0].dims[0] || shape.dims[1] != out[0].dims[1])
      return ofx_op_error(op, OFX_BAD_INPUT, "input C does not broadcast to the output shape");
  }
  return OFX_OK;
}

static void gemm_dynamic_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  const gemm_state *s = op->state;
  const float *a = in[0].data, *b = in[1].data;
  float *y = out[0].data;
  size_t m = (size_t)out[0].dims[0], n = s->n, k = s->k;
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double acc = 0;
      for (size_t x = 0; x < k; x++)
        acc += (double)a[s->trans_a ? x * m + i : i * k + x] * b[s->trans_b ? j * k + x : x * n + j];
      y[i * n + j] = (float)(s->alpha * acc);
    }
  if (ofx_op_has_input(op, 2)) {
    const ofx_bcast *bc = &s->c_bcast;
    const float *c = in[2].data;
    OFX_BCAST_FOR(bc, y[e] += s->beta * c[off[1]]);
  }
}

static ofx_status gemm_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  gemm_state *s = op->state;
  if (s->dynamic) return gemm_dynamic_reshape(op, in, out);
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, 2));
  size_t k = (size_t)(s->trans_a ? in[0].dims[0] : in[0].dims[1]);
  size_t m = (size_t)(s->trans_a ? in[0].dims[1] : in[0].dims[0]);
  if (k != s->k)
    return ofx_op_error(op, OFX_BAD_INPUT, "input A has inner dim %zu, B expects %zu", k, s->k);
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 2;
  out[0].dims[0] = (int64_t)m;
  out[0].dims[1] = (int64_t)s->n;
  /* A transposed, then the widened weights (float16 storage) */
  op->scratch_bytes = (s->trans_a ? ofx_round_up(m * k * sizeof(float), 16) : 0) + ofx_packed_weights_scratch_bytes(&s->packed);
  return OFX_OK;
}

static void gemm_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const gemm_state *s = op->state;
  if (s->dynamic) {
    gemm_dynamic_run(op, in, out);
    return;
  }
  const float *a = in[0].data;
  size_t m = (size_t)out[0].dims[0];
  const size_t a_bytes = s->trans_a ? ofx_round_up(m * s->k * sizeof(float), 16) : 0;
  /* scratch is NULL when neither is needed: no pointer arithmetic on it then */
  const float *w = ofx_packed_weights_for_run(&s->packed, s->packed.half ? (char *)ctx->scratch + a_bytes : NULL, ctx->pool);
  if (s->trans_a) {
    float *t = ctx->scratch;
    for (size_t i = 0; i < m; i++)
      for (size_t x = 0; x < s->k; x++) t[i * s->k + x] = a[x * m + i];
    a = t;
  }
  ofx_f32_gemm(m, s->n, s->k, a, s->k, w, out[0].data, s->n, -INFINITY, INFINITY, ctx->pool);
}

const ofx_op_def ofx_op_gemm = {.op_type = "Gemm", .kind = OFX_OP_Gemm, .init = gemm_init, .reshape = gemm_reshape,
                                .run = gemm_run, .destroy = gemm_destroy};
