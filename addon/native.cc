#include <cerrno>
#include <cstring>
#include "modules.h"

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err) {
  return ThrowErrno(env, syscall, err, "");
}

Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail) {
  Napi::Error e = Napi::Error::New(env, std::string(syscall) + ": " + strerror(err) + (detail.empty() ? "" : ": " + detail));
  e.Set("errno", Napi::Number::New(env, err));
  e.Set("syscall", Napi::String::New(env, syscall));
  e.ThrowAsJavaScriptException();
  return env.Undefined();
}

Napi::Object NumberTable(Napi::Env env, std::initializer_list<std::pair<const char*, double>> entries) {
  Napi::Object o = Napi::Object::New(env);
  for (auto& [k, v] : entries) o.Set(k, Napi::Number::New(env, v));
  return o;
}

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  InitSyscalls(env, exports);
  InitSpawn(env, exports);
  InitSeccomp(env, exports);
  InitCgroupDevices(env, exports);
  InitUserns(env, exports);
  InitCriu(env, exports);
  InitFs(env, exports);
  return exports;
}

NODE_API_MODULE(ocirt_native, Init)
