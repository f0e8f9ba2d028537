/* MatMul with numpy semantics (float32): 1-D operands are promoted and the promoted axis
 * dropped again, batch axes broadcast. A plain loop for now; Gemm covers the packed case. */
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"
#include "ops/typed.h"

typedef struct matmul_state {
  size_t m, k, n;
  ofx_bcast batch; /* over the batch axes: operand 0 = A's matrices, 1 = B's */
} matmul_state;

static ofx_status matmul_init(ofx_op *op) {
  op->state = calloc(1, sizeof(matmul_state));
  return op->state ? OFX_OK : ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory");
}

static ofx_status matmul_reshape(ofx_op *op, const ofx_tensor *in, ofx_tensor *out) {
  matmul_state *s = op->state;
  OFX_TRY(ofx_op_check_input(op, in, 0, OFX_DTYPE_FLOAT32, -1));
  OFX_TRY(ofx_op_check_input(op, in, 1, OFX_DTYPE_FLOAT32, -1));
  if (in[0].rank == 0 || in[1].rank == 0) return ofx_op_error(op, OFX_BAD_INPUT, "operands must have rank 1 or more");
  ofx_tensor a = in[0], b = in[1];
  bool a_vec = a.rank == 1, b_vec = b.rank == 1;
  if (a_vec) {
    a.rank = 2;
    a.dims[1] = a.dims[0];
    a.dims[0] = 1;
  }
  if (b_vec) {
    b.rank = 2;
    b.dims[1] = 1;
  }
  s->m = (size_t)a.dims[a.rank - 2];
  s->k = (size_t)a.dims[a.rank - 1];
  s->n = (size_t)b.dims[b.rank - 1];
  if ((size_t)b.dims[b.rank - 2] != s->k) {
    char sa[96], sb[96];
    return ofx_op_error(op, OFX_BAD_INPUT, "cannot multiply %s by %s", ofx_shape_str(in[0].dims, in[0].rank, sa, sizeof sa),
                        ofx_shape_str(in[1].dims, in[1].rank, sb, sizeof sb));
  }
  ofx_tensor ab = a, bb = b, batch;
  ab.rank -= 2;
  bb.rank -= 2;
  const ofx_tensor *t[2] = {&ab, &bb};
  OFX_TRY(ofx_bcast_init(op, t, 2, &s->batch, &batch));
  out[0].dtype = OFX_DTYPE_FLOAT32;
  out[0].rank = 0;
  for (int d = 0; d < batch.rank; d++) out[0].dims[out[0].rank++] = batch.dims[d];
  if (!a_vec) out[0].dims[out[0].rank++] = (int64_t)s->m;
  if (!b_vec) out[0].dims[out[0].rank++] = (int64_t)s->n;
  if (out[0].rank > OFX_MAX_RANK) return ofx_op_error(op, OFX_UNSUPPORTED_OP, "output rank too large");
  return OFX_OK;
}

static void matmul_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const matmul_state *s = op->state;
  const ofx_bcast *b = &s->batch;
  const float *x = in[0].data, *w = in[1].data;
  float *y = out[0].data;
  size_t m = s->m, k = s->k, n = s->n;
  OFX_BCAST_FOR(b, {
    const float *pa = x + off[0] * m * k, *pb = w + off[1] * k * n;
    float *py = y + e * m * n;
    for (size_t i = 0; i < m; i++) {
      for (size_t j = 0; j < n; j++) py[i * n + j] = 0;
      for (size_t q = 0; q < k; q++) {
        float av = pa[i * k + q];
        for (size_t j = 0; j < n; j++) py[i * n + j] += av * pb[q * n + j];
      }
    }
  });
}

const ofx_op_def ofx_op_matmul = {"MatMul", matmul_init, matmul_reshape, matmul_run, NULL};
