// Seccomp compiler entry point (see src/seccomp/). Filled in by the seccomp work.
#include "modules.h"

void InitSeccomp(Napi::Env env, Napi::Object exports) {}
