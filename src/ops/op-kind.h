/* The op kinds: one enumerator per row of op-defs.inc, in its order (OFX_OP_Conv for
 * OFX_OP(Conv, ofx_op_conv)). A leaf header: code that only compares kinds includes this, not
 * op.h. op.c's table is indexed by kind, and tests/native/test-op-table.c checks that every
 * definition's .kind and .op_type agree with its row. */
#ifndef OFX_OPS_OP_KIND_H
#define OFX_OPS_OP_KIND_H

typedef enum ofx_op_kind {
#define OFX_OP(op_type, symbol) OFX_OP_##op_type,
#include "ops/op-defs.inc"
#undef OFX_OP
  OFX_OP_KIND_COUNT
} ofx_op_kind;

#endif
