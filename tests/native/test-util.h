/* Tiny assertion helpers for the native tests: failures print where and keep counting, and
 * ofx_test_finish() prints the closing "N passed, N failed" line. */
#ifndef OFX_TEST_UTIL_H
#define OFX_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

extern int ofx_test_failures;
extern int ofx_test_passes;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (cond) {                                                                \
      ofx_test_passes++;                                                       \
    } else {                                                                   \
      ofx_test_failures++;                                                     \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                          \
  } while (0)

/* Reads a whole file; returns NULL (and prints why) on failure. Caller frees. */
uint8_t *ofx_test_read_file(const char *path, size_t *size);
/* Prints "N passed, N failed" and returns the process exit code. */
int ofx_test_finish(const char *suite);

#endif
