/* Helpers for ops that compute on several element types (shape arithmetic in int64, masks in
 * bool): element loads/stores through double or int64, multidirectional broadcasting, and
 * reading small shape-like inputs known at plan time. Plain loops: these ops are rarely hot. */
#ifndef OFX_OPS_TYPED_H
#define OFX_OPS_TYPED_H

#include <math.h>
#include <string.h>

#include "base/status.h"
#include "ops/op.h"

#define OFX_DTYPE_INT16 5
#define OFX_DTYPE_UINT16 4
#define OFX_DTYPE_DOUBLE 11
#define OFX_DTYPE_UINT32 12
#define OFX_DTYPE_UINT64 13

static inline bool ofx_dtype_is_int(int t) {
  return t == OFX_DTYPE_INT64 || t == OFX_DTYPE_INT32 || t == OFX_DTYPE_INT8 || t == OFX_DTYPE_UINT8 ||
         t == OFX_DTYPE_INT16 || t == OFX_DTYPE_UINT16 || t == OFX_DTYPE_UINT32 || t == OFX_DTYPE_UINT64 ||
         t == OFX_DTYPE_BOOL;
}

/* Types the typed loops read and write. */
static inline bool ofx_dtype_is_numeric(int t) { return t == OFX_DTYPE_FLOAT32 || t == OFX_DTYPE_DOUBLE || ofx_dtype_is_int(t); }

/* Integer tensors wrap on overflow, as two's-complement hardware (and onnxruntime) does; in C
 * signed overflow is undefined, so the arithmetic goes through uint64_t. */
static inline int64_t ofx_i64_add_wrap(int64_t x, int64_t y) { return (int64_t)((uint64_t)x + (uint64_t)y); }
static inline int64_t ofx_i64_sub_wrap(int64_t x, int64_t y) { return (int64_t)((uint64_t)x - (uint64_t)y); }
static inline int64_t ofx_i64_mul_wrap(int64_t x, int64_t y) { return (int64_t)((uint64_t)x * (uint64_t)y); }

static inline double ofx_load_f64(const void *p, int t, size_t i) {
  switch (t) {
    case OFX_DTYPE_FLOAT32: return ((const float *)p)[i];
    case OFX_DTYPE_DOUBLE: return ((const double *)p)[i];
    case OFX_DTYPE_INT64: return (double)((const int64_t *)p)[i];
    case OFX_DTYPE_INT32: return ((const int32_t *)p)[i];
    case OFX_DTYPE_INT16: return ((const int16_t *)p)[i];
    case OFX_DTYPE_INT8: return ((const int8_t *)p)[i];
    case OFX_DTYPE_UINT64: return (double)((const uint64_t *)p)[i];
    case OFX_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case OFX_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    default: return ((const uint8_t *)p)[i]; /* uint8, bool */
  }
}

static inline int64_t ofx_load_i64(const void *p, int t, size_t i) {
  switch (t) {
    case OFX_DTYPE_INT64: return ((const int64_t *)p)[i];
    case OFX_DTYPE_INT32: return ((const int32_t *)p)[i];
    case OFX_DTYPE_INT16: return ((const int16_t *)p)[i];
    case OFX_DTYPE_INT8: return ((const int8_t *)p)[i];
    case OFX_DTYPE_UINT64: return (int64_t)((const uint64_t *)p)[i];
    case OFX_DTYPE_UINT32: return ((const uint32_t *)p)[i];
    case OFX_DTYPE_UINT16: return ((const uint16_t *)p)[i];
    case OFX_DTYPE_UINT8: case OFX_DTYPE_BOOL: return ((const uint8_t *)p)[i];
    default: {
      double d = ofx_load_f64(p, t, i);
      /* saturate instead of undefined float->int conversion */
      if (!(d == d)) return 0;
      if (d >= 9.2e18) return INT64_MAX;
      if (d <= -9.2e18) return INT64_MIN;
      return (int64_t)d;
    }
  }
}

static inline void ofx_store_f64(void *p, int t, size_t i, double v) {
  switch (t) {
    case OFX_DTYPE_FLOAT32: ((float *)p)[i] = (float)v; return;
    case OFX_DTYPE_DOUBLE: ((double *)p)[i] = v; return;
    case OFX_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
    default: {
      int64_t x = 0;
      if (v == v) x = v >= 9.2e18 ? INT64_MAX : v <= -9.2e18 ? INT64_MIN : (int64_t)v;
      switch (t) {
        case OFX_DTYPE_INT64: ((int64_t *)p)[i] = x; return;
        case OFX_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)x; return;
        case OFX_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)x; return;
        case OFX_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)x; return;
        case OFX_DTYPE_UINT64: ((uint64_t *)p)[i] = (uint64_t)x; return;
        case OFX_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)x; return;
        case OFX_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)x; return;
        default: ((uint8_t *)p)[i] = (uint8_t)x; return;
      }
    }
  }
}

static inline void ofx_store_i64(void *p, int t, size_t i, int64_t v) {
  switch (t) {
    case OFX_DTYPE_INT64: ((int64_t *)p)[i] = v; return;
    case OFX_DTYPE_INT32: ((int32_t *)p)[i] = (int32_t)v; return;
    case OFX_DTYPE_INT16: ((int16_t *)p)[i] = (int16_t)v; return;
    case OFX_DTYPE_INT8: ((int8_t *)p)[i] = (int8_t)v; return;
    case OFX_DTYPE_UINT64: ((uint64_t *)p)[i] = (uint64_t)v; return;
    case OFX_DTYPE_UINT32: ((uint32_t *)p)[i] = (uint32_t)v; return;
    case OFX_DTYPE_UINT16: ((uint16_t *)p)[i] = (uint16_t)v; return;
    case OFX_DTYPE_BOOL: ((uint8_t *)p)[i] = v != 0; return;
    case OFX_DTYPE_UINT8: ((uint8_t *)p)[i] = (uint8_t)v; return;
    default: ofx_store_f64(p, t, i, (double)v);
  }
}

/* Up to OFX_BCAST_MAX operands broadcast to one output shape: per operand, an element stride per
 * output axis (0 where it is broadcast). */
#define OFX_BCAST_MAX 4
typedef struct ofx_bcast {
  int rank, n;
  int64_t dims[OFX_MAX_RANK];
  int64_t strides[OFX_BCAST_MAX][OFX_MAX_RANK];
  size_t numel;
} ofx_bcast;

/* Broadcasts operands in[idx[0..n)] (numpy rules); sets out's rank and dims. */
static inline ofx_status ofx_bcast_init(const ofx_op *op, const ofx_tensor *const *t, int n, ofx_bcast *b,
                                        ofx_tensor *out) {
  memset(b, 0, sizeof *b);
  b->n = n;
  for (int j = 0; j < n; j++)
    if (t[j]->rank > b->rank) b->rank = t[j]->rank;
  for (int i = 0; i < b->rank; i++) {
    int64_t d = 1;
    for (int j = 0; j < n; j++) {
      int k = i - (b->rank - t[j]->rank);
      int64_t dj = k >= 0 ? t[j]->dims[k] : 1;
      if (dj == 1 || dj == d) continue;
      if (d != 1) {
        char sa[96], sb[96];
        return ofx_op_error(op, OFX_BAD_INPUT, "shapes %s and %s cannot be broadcast together",
                            ofx_shape_str(t[0]->dims, t[0]->rank, sa, sizeof sa),
                            ofx_shape_str(t[j]->dims, t[j]->rank, sb, sizeof sb));
      }
      d = dj;
    }
    b->dims[i] = d;
  }
  for (int j = 0; j < n; j++) {
    int64_t s = 1;
    for (int i = b->rank - 1; i >= 0; i--) {
      int k = i - (b->rank - t[j]->rank);
      int64_t dj = k >= 0 ? t[j]->dims[k] : 1;
      b->strides[j][i] = dj == 1 ? 0 : s;
      s *= dj;
    }
  }
  b->numel = 1;
  for (int i = 0; i < b->rank; i++) b->numel *= (size_t)b->dims[i];
  out->rank = b->rank;
  memcpy(out->dims, b->dims, sizeof b->dims);
  return OFX_OK;
}

/* Iterates the output elements e with operand offsets off[j]; BODY uses e and off[]. */
#define OFX_BCAST_FOR(b, ...)                                                  \
  do {                                                                         \
    int64_t idx_[OFX_MAX_RANK] = {0};                                          \
    size_t off[OFX_BCAST_MAX] = {0};                                           \
    for (size_t e = 0; e < (b)->numel; e++) {                                  \
      __VA_ARGS__;                                                             \
      for (int d_ = (b)->rank - 1; d_ >= 0; d_--) {                            \
        for (int j_ = 0; j_ < (b)->n; j_++) off[j_] += (size_t)(b)->strides[j_][d_]; \
        if (++idx_[d_] < (b)->dims[d_]) break;                                 \
        for (int j_ = 0; j_ < (b)->n; j_++)                                    \
          off[j_] -= (size_t)((b)->strides[j_][d_] * (b)->dims[d_]);           \
        idx_[d_] = 0;                                                          \
      }                                                                        \
    }                                                                          \
  } while (0)

/* Reads a shape-like integer input (int64 or int32, rank 0 or 1, data known at plan time) into
 * out; errors name the input. */
static inline ofx_status ofx_read_ints_input(const ofx_op *op, const ofx_tensor *in, size_t k, const char *what,
                                             int64_t *out, size_t capacity, size_t *count) {
  const ofx_tensor *t = &in[k];
  if (t->dtype != OFX_DTYPE_INT64 && t->dtype != OFX_DTYPE_INT32)
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be int64, it is %s", k, what, onnx_dtype_name((int32_t)t->dtype));
  if (t->rank > 1)
    return ofx_op_error(op, OFX_BAD_MODEL, "input %zu (%s) must be 1-D, it has rank %d", k, what, t->rank);
  size_t n = ofx_tensor_numel(t);
  if (n > capacity)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP, "input %zu (%s) has %zu values, at most %zu are supported", k, what, n, capacity);
  if (t->data == NULL && n > 0)
    return ofx_op_error(op, OFX_UNSUPPORTED_OP,
                        "input %zu (%s) must be known when planning: a constant, a small integer input, or computed from shapes",
                        k, what);
  for (size_t i = 0; i < n; i++) out[i] = ofx_load_i64(t->data, t->dtype, i);
  *count = n;
  return OFX_OK;
}

/* Normalizes an axis that must lie in [-rank, rank). */
static inline ofx_status ofx_op_axis_strict(const ofx_op *op, const char *what, int64_t axis, int rank, int *out) {
  int64_t a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank)
    return ofx_op_error(op, OFX_BAD_MODEL, "%s %lld is out of range for rank %d", what, (long long)axis, rank);
  *out = (int)a;
  return OFX_OK;
}

static inline ofx_status ofx_op_no_state(ofx_op *op) { return OFX_OK; }

#endif
