/* Shared by the fuzz targets. Each target defines LLVMFuzzerTestOneInput; built with
 * -DOFX_FUZZ=ON (clang) it links libFuzzer, otherwise replay.c drives it over committed inputs
 * (the seed corpus and every crash ever found), so ctest replays them under ASan + UBSan. */
#ifndef OFX_FUZZ_H
#define OFX_FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "onnxfx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs larger than this are ignored: keeps every execution fast (models in the corpus are a
 * few KiB; libFuzzer's -max_len is set below it in run.sh). */
#define OFX_FUZZ_MAX_INPUT (256 * 1024)

/* The model bytes must stay alive while the model lives; libFuzzer's buffer does. A status that
 * is not OK must come with a message: an empty one is a bug. */
static inline void ofx_fuzz_check_error(ofx_status s) {
  if (s != OFX_OK) {
    const char *msg = ofx_last_error();
    if (msg == NULL || msg[0] == '\0') __builtin_trap();
  }
}

#endif
