/* 1-D/3-D pooling and MaxPool's Indices output (pool-nd.c), reached from pool.c's init. */
#ifndef OFX_OPS_POOL_ND_H
#define OFX_OPS_POOL_ND_H

#include "ops/op.h"

/* True when a MaxPool/AveragePool node needs the N-D path rather than the 2-D one. */
bool ofx_pool_nd_wanted(const ofx_op *op);

extern const ofx_op_def ofx_op_max_pool_nd, ofx_op_average_pool_nd;

/* Hands the node to the N-D definition: pool inits call this first. The runtime reads op->def
 * after init, so reshape, run, destroy and the input layout all come from the N-D op. */
#define OFX_POOL_ND_DISPATCH(op)                                                                          \
  do {                                                                                                    \
    if (ofx_pool_nd_wanted(op)) {                                                                         \
      (op)->def = (op)->def->kind == OFX_OP_MaxPool ? &ofx_op_max_pool_nd : &ofx_op_average_pool_nd;      \
      return (op)->def->init(op);                                                                         \
    }                                                                                                     \
  } while (0)

/* MaxPool on int8/uint8 (QOperator models pool 8-bit activations): the input widened to float32
 * in scratch, pooled by `run` (the float path, which must not use scratch), the result narrowed
 * back; exact, as the max is one of the inputs. Scratch bytes for an 8-bit input: */
bool ofx_pool_is_x8(ofx_dtype t);
size_t ofx_pool_x8_scratch(const ofx_tensor *in, const ofx_tensor *out);
void ofx_pool_x8_run(ofx_op *op, const ofx_tensor *in, ofx_tensor *out, const ofx_run_context *ctx,
                     void (*run)(ofx_op *, const ofx_tensor *, ofx_tensor *, const ofx_run_context *));

#endif
