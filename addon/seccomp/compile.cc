// Seccomp compiler entry point (see src/seccomp/ for the input it takes and
// compiler.h for the program it makes).
#include "modules.h"
#include "compiler.h"

namespace {

// compileSeccomp(input: Buffer) -> Buffer of sock_filter[] (8 bytes each, host order).
Napi::Value CompileSeccomp(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "compileSeccomp: expected the Buffer made by src/seccomp/encode.ts").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> input = info[0].As<Napi::Buffer<uint8_t>>();
  std::vector<ocirt_seccomp::Insn> prog;
  std::string err;
  if (!ocirt_seccomp::CompileInput(input.Data(), input.Length(), prog, err)) {
    Napi::Error::New(env, err).ThrowAsJavaScriptException();
    return env.Undefined();
  }
  return Napi::Buffer<uint8_t>::Copy(env, reinterpret_cast<const uint8_t*>(prog.data()), prog.size() * sizeof(prog[0]));
}

}  // namespace

void InitSeccomp(Napi::Env env, Napi::Object exports) {
  exports.Set("compileSeccomp", Napi::Function::New(env, CompileSeccomp, "compileSeccomp"));
  exports.Set("seccompInputVersion", Napi::Number::New(env, ocirt_seccomp::kInputVersion));
}
