/* MatMul with numpy semantics (float32): 1-D operands are promoted and the promoted axis
 * dropped again, batch axes broadcast. Both paths run the packed GEMM micro-kernels
 * (ofx_f32_gemm, threaded over the run context's pool):
 *   - B a constant matrix (or vector), the Linear layers of transformers exported as MatMul +
 *     Add: B is packed once at init and all of A's batch rows form one M x K operand;
 *   - B computed (attention's Q·Kᵀ and A·V): each of B's matrices is packed into the
 *     kernels' NR layout in scratch per call, then the same GEMM. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/status.h"
#include "kernels/f32-gemm/f32-gemm.h"
#include "kernels/kernel-config.h"
#include "kernels/x32-packw/x32-packw.h"
#include "ops/op.h"
#include "ops/packed-weights.h"
#include "ops/quantize.h"
#include "ops/typed.h"

typedef struct matmul_state {
  size_t m, k, n;
  ofx_bcast batch; /* over the batch axes: operand 0 = A's matrices, 1 = B's */
  ofx_packed_weights packed; /* constant B [k][n] packed at init (data NULL: B is computed) */
  size_t packed_k, packed_n;
} matmul_state;

static void matmul_destroy(ofx_op *op) {
  matmul_state *s = op->state;
  if (s == NULL) return;
  ofx_packed_weights_free(&s->packed);
  free(s);
}

static ofx_status matmul_init(ofx_op *op) {
  OFX_TRY(ofx_op_state_new(op, sizeof(matmul_state)));
  matmul_state *s = op->state;
  const ofx_value *b = ofx_op_const_input(op, 1);
  if (b == NULL || b->dtype != OFX_DTYPE_FLOAT32 || b->rank < 1 || b->rank > 2) return OFX_OK;
  const size_t k = (size_t)b->dims[0], n = b->rank == 2 ? (size_t)b->dims[1] : 1;
  if (b->nbytes != k * n * sizeof(float)) return OFX_OK; /* reshape reports it */
  const size_t nr = ofx_kernels()->gemm_nr;
  const size_t count = ofx_x32_packw_gemm_size(n, k, nr);
  float *packed = malloc((count + 1) * sizeof(float));
  if (packed == NULL) return ofx_op_error(op, OFX_OUT_OF_MEMORY, "out of memory packing weights");
  ofx_x32_packw_gemm_gio(n, k, nr, b->data, NULL, packed); /* from the model bytes */
  s->packed_k = k;
  s->packed_n = n;
  ofx_op_mark_input(op, 1, OFX_INPUT_PACKED);
  return ofx_packed_weights_keep(op, packed, count, &s->packed);
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
  op->scratch_bytes = s->packed.data ? ofx_packed_weights_scratch_bytes(&s->packed)
                                     : ofx_x32_packw_gemm_size(s->n, s->k, ofx_kernels()->gemm_nr) * sizeof(float);
  return OFX_OK;
}

static void matmul_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx) {
  const matmul_state *s = op->state;
  const ofx_bcast *b = &s->batch;
  const float *x = in[0].data;
  float *y = out[0].data;
  const size_t m = s->m, k = s->k, n = s->n;
  if (s->packed.data) {
    /* B has no batch axes: the batch is A's, stored back to back, and so is the output's */
    const float *w = ofx_packed_weights_for_run(&s->packed, ctx->scratch, ctx->pool);
    ofx_f32_gemm(b->numel * m, n, k, x, k, w, y, n, -INFINITY, INFINITY, ctx->pool);
    return;
  }
  const float *w = in[1].data;
  float *packed = ctx->scratch;
  const size_t nr = ofx_kernels()->gemm_nr;
  size_t last_b = SIZE_MAX;
  OFX_BCAST_FOR(b, {
    if (off[1] != last_b) { /* B broadcast over A's batch is packed once per run of repeats */
      ofx_x32_packw_gemm_gio(n, k, nr, w + off[1] * k * n, NULL, packed);
      last_b = off[1];
    }
    ofx_f32_gemm(m, n, k, x + off[0] * m * k, k, packed, y + e * m * n, n, -INFINITY, INFINITY, ctx->pool);
  });
}

const ofx_op_def ofx_op_matmul = {.op_type = "MatMul", .kind = OFX_OP_MatMul, .init = matmul_init,
                                  .reshape = matmul_reshape, .run = matmul_run, .destroy = matmul_destroy,
                                  .fuse_quantized = ofx_q8_fuse_quantized};
