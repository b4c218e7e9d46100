/* ocirt: the command (bin/ocirt links here). It runs bin/ocirt.js on the
 * JavaScript engine the build chose: dist/engine says "bun" (the Bun binary npm
 * installed with ocirt) or "node"; OCIRT_ENGINE (node, bun or a path) overrides
 * it (docs/speed.md).
 *
 * In C rather than sh: the environment reaches ocirt, and the hooks that inherit
 * it as runc's do, exactly as the caller gave it, in its order (a shell re-orders
 * it and adds PWD). Only NODE_EXTRA_CA_CERTS goes: ocirt makes no TLS connections
 * and node reads that CA bundle at every start (~90 ms on some hosts).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void die(const char* what, const char* detail) {
  fprintf(stderr, "ocirt: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

/* an executable regular file that is not empty (bun's npm package ships empty or
   placeholder files where its postinstall did not run) */
static int runnable(const char* p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 4096 && access(p, X_OK) == 0;
}

/* <dir>/bun-linux-*\/bin/bun, the platform package of npm's bun */
static int oven_bun(const char* dir, char* out, size_t n) {
  DIR* d = opendir(dir);
  if (!d) return 0;
  struct dirent* e;
  int found = 0;
  while (!found && (e = readdir(d))) {
    if (strncmp(e->d_name, "bun-linux-", 10) != 0) continue;
    if (snprintf(out, n, "%s/%s/bin/bun", dir, e->d_name) < (int)n && runnable(out)) found = 1;
  }
  closedir(d);
  return found;
}

/* The Bun binary: npm's platform package, or where bun's postinstall downloads it
   (bun/bin/bun.exe), in ocirt's own node_modules or beside ocirt when ocirt is
   itself a dependency; else bun on PATH. */
static int find_bun(const char* root, char* out, size_t n) {
  char dir[PATH_MAX];
  const char* places[] = {"%s/node_modules/@oven", "%s/../@oven"};
  for (size_t i = 0; i < 2; i++) {
    if (snprintf(dir, sizeof dir, places[i], root) < (int)sizeof dir && oven_bun(dir, out, n)) return 1;
  }
  const char* exes[] = {"%s/node_modules/bun/bin/bun.exe", "%s/../bun/bin/bun.exe"};
  for (size_t i = 0; i < 2; i++) {
    if (snprintf(out, n, exes[i], root) < (int)n && runnable(out)) return 1;
  }
  const char* path = getenv("PATH");
  if (!path) return 0;
  char* copy = strdup(path);
  if (!copy) return 0;
  int found = 0;
  for (char *save = NULL, *p = strtok_r(copy, ":", &save); p && !found; p = strtok_r(NULL, ":", &save)) {
    if (snprintf(out, n, "%s/bun", *p ? p : ".") < (int)n && runnable(out)) found = 1;
  }
  free(copy);
  return found;
}

int main(int argc, char** argv) {
  /* the package root: this binary is <root>/build/Release/ocirt */
  char root[PATH_MAX];
  ssize_t len = readlink("/proc/self/exe", root, sizeof root - 1);
  if (len < 0) die("readlink /proc/self/exe", strerror(errno));
  root[len] = '\0';
  for (int up = 0; up < 3; up++) {
    char* slash = strrchr(root, '/');
    if (!slash || slash == root) die("cannot find ocirt's directory from", root);
    *slash = '\0';
  }

  char engine[PATH_MAX] = "";
  const char* want = getenv("OCIRT_ENGINE");
  if (want && *want) {
    if (snprintf(engine, sizeof engine, "%s", want) >= (int)sizeof engine) die("OCIRT_ENGINE is too long", NULL);
  } else {
    char file[PATH_MAX + 16];
    snprintf(file, sizeof file, "%s/dist/engine", root);
    FILE* f = fopen(file, "r");
    if (f) {
      if (fgets(engine, sizeof engine, f)) engine[strcspn(engine, " \t\r\n")] = '\0';
      fclose(f);
    }
  }

  char js[PATH_MAX];
  if (snprintf(js, sizeof js, "%s/bin/ocirt.js", root) >= (int)sizeof js) die("path too long", root);
  const char* prog = "node";
  char bun[PATH_MAX];
  if (strcmp(engine, "bun") == 0) {
    if (!find_bun(root, bun, sizeof bun)) die("OCIRT_ENGINE=bun, but no bun binary was found", NULL);
    prog = bun;
  } else if (engine[0] && strcmp(engine, "node") != 0) {
    prog = engine; /* a path */
  }

  char** args = calloc((size_t)argc + 2, sizeof *args);
  if (!args) die("out of memory", NULL);
  args[0] = (char*)prog;
  args[1] = js;
  for (int i = 1; i < argc; i++) args[i + 1] = argv[i];
  unsetenv("NODE_EXTRA_CA_CERTS"); /* moves the rest down, in order */
  if (strchr(prog, '/')) execv(prog, args);
  else execvp(prog, args);
  die(prog, strerror(errno));
  return 1;
}
