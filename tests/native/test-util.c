#include "test-util.h"

#include <stdio.h>
#include <stdlib.h>

int ofx_test_failures = 0;
int ofx_test_passes = 0;

uint8_t *ofx_test_read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    fprintf(stderr, "cannot open %s\n", path);
    return NULL;
  }
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
  if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf) *size = (size_t)n;
  return buf;
}

int ofx_test_finish(const char *suite) {
  printf("%s: %d passed, %d failed\n", suite, ofx_test_passes, ofx_test_failures);
  return ofx_test_failures ? 1 : 0;
}
