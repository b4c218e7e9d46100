#include "modules.h"
void InitSpawn(Napi::Env env, Napi::Object exports) {}
