/* Status codes and the per-thread last-error message shared by every layer. */
#ifndef OFX_BASE_STATUS_H
#define OFX_BASE_STATUS_H

#include "onnxfx.h"

/* Records status and a printf-style message as the calling thread's last error; returns status
 * so that callers can write `return ofx_error(OFX_BAD_MODEL, "...")`. */
ofx_status ofx_error(ofx_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepends context ("node 'layer1.0.conv1' (Conv): ") to the last error message, for errors
 * raised deep inside a decoder or op that does not know where it is. Returns status unchanged. */
ofx_status ofx_error_prefix(ofx_status status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void ofx_error_clear(void);

#define OFX_TRY(expr)                                                                              \
  do {                                                                                             \
    ofx_status ofx_try_status_ = (expr);                                                           \
    if (ofx_try_status_ != OFX_OK) return ofx_try_status_;                                         \
  } while (0)

#endif
