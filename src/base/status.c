#include "base/status.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OFX_ERROR_CAPACITY 1024

static _Thread_local char last_error[OFX_ERROR_CAPACITY];

ofx_status ofx_error(ofx_status status, const char *fmt, ...) {
  va_list args;
  va_start(args, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, args);
  va_end(args);
  return status;
}

ofx_status ofx_error_prefix(ofx_status status, const char *fmt, ...) {
  char prefix[OFX_ERROR_CAPACITY];
  va_list args;
  va_start(args, fmt);
  int n = vsnprintf(prefix, sizeof prefix, fmt, args);
  va_end(args);
  if (n < 0) return status;
  size_t plen = strlen(prefix), elen = strlen(last_error);
  /* Over capacity, drop the middle of the path rather than the reason at the end. */
  if (plen + elen > OFX_ERROR_CAPACITY - 1) {
    static const char ellipsis[] = "...";
    size_t keep_tail = elen > OFX_ERROR_CAPACITY / 2 ? OFX_ERROR_CAPACITY / 2 : elen;
    size_t keep_head = OFX_ERROR_CAPACITY - 1 - keep_tail - (sizeof ellipsis - 1);
    if (plen > keep_head) plen = keep_head;
    memmove(last_error + plen + sizeof ellipsis - 1, last_error + elen - keep_tail, keep_tail);
    memcpy(last_error + plen, ellipsis, sizeof ellipsis - 1);
    memcpy(last_error, prefix, plen);
    last_error[plen + sizeof ellipsis - 1 + keep_tail] = '\0';
    return status;
  }
  memmove(last_error + plen, last_error, elen);
  memcpy(last_error, prefix, plen);
  last_error[plen + elen] = '\0';
  return status;
}

void ofx_error_clear(void) { last_error[0] = '\0'; }

const char *ofx_last_error(void) { return last_error; }

const char *ofx_status_name(ofx_status status) {
  switch (status) {
#define OFX_STATUS_NAME(name, code) \
  case OFX_##name:                  \
    return #name;
    OFX_STATUS_LIST(OFX_STATUS_NAME)
#undef OFX_STATUS_NAME
  }
  return "UNKNOWN";
}
