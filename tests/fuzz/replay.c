/* Drives a fuzz target without libFuzzer: calls LLVMFuzzerTestOneInput on every file given, or on
 * every file in every directory given (not recursive). Used by ctest to replay the seed corpus
 * and every crash ever found (tests/fuzz/regressions) under ASan + UBSan + LeakSanitizer. A
 * directory with no file in it is an error, never a silent pass. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    fprintf(stderr, "cannot open %s\n", path);
    return 0;
  }
  uint8_t *buf = NULL;
  size_t size = 0, cap = 0, n;
  uint8_t chunk[65536];
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (size + n > cap) {
      cap = (size + n) * 2;
      uint8_t *grown = realloc(buf, cap);
      if (grown == NULL) {
        free(buf);
        fclose(f);
        return 0;
      }
      buf = grown;
    }
    memcpy(buf + size, chunk, n);
    size += n;
  }
  fclose(f);
  /* an exact-size copy, so that ASan catches reads past the end */
  uint8_t *exact = malloc(size ? size : 1);
  if (exact == NULL) {
    free(buf);
    return 0;
  }
  if (size) memcpy(exact, buf, size);
  free(buf);
  LLVMFuzzerTestOneInput(exact, size);
  free(exact);
  return 1;
}

int main(int argc, char **argv) {
  int files = 0, failed = 0;
  for (int a = 1; a < argc; a++) {
    struct stat st;
    if (stat(argv[a], &st) != 0) {
      fprintf(stderr, "%s does not exist\n", argv[a]);
      failed = 1;
      continue;
    }
    if (!S_ISDIR(st.st_mode)) {
      files += replay_file(argv[a]);
      continue;
    }
    DIR *dir = opendir(argv[a]);
    int in_dir = 0;
    struct dirent *e;
    while (dir && (e = readdir(dir)) != NULL) {
      if (e->d_name[0] == '.') continue;
      char path[4096];
      snprintf(path, sizeof path, "%s/%s", argv[a], e->d_name);
      if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) in_dir += replay_file(path);
    }
    if (dir) closedir(dir);
    if (in_dir == 0) {
      fprintf(stderr, "%s holds no input\n", argv[a]);
      failed = 1;
    }
    files += in_dir;
  }
  printf("replayed %d inputs\n", files);
  return failed || files == 0 ? 1 : 0;
}
