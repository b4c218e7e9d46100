// Each source file of the addon registers its own functions on the exports object,
// so files can be added (spawn, syscalls, seccomp) without touching one big table.
#pragma once
#include <napi.h>

void InitSpawn(Napi::Env env, Napi::Object exports);
void InitSyscalls(Napi::Env env, Napi::Object exports);
void InitSeccomp(Napi::Env env, Napi::Object exports);
void InitCgroupDevices(Napi::Env env, Napi::Object exports);
void InitUserns(Napi::Env env, Napi::Object exports);
void InitCriu(Napi::Env env, Napi::Object exports);
void InitFs(Napi::Env env, Napi::Object exports);

// Throws a JS Error carrying errno as .errno and the syscall name as .syscall,
// the same shape node's own ErrnoException has, so TS code handles both alike.
Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err);
// The same, with more said after strerror (e.g. the BPF verifier's verdict).
Napi::Value ThrowErrno(Napi::Env env, const char* syscall, int err, const std::string& detail);
// An object of named numbers, {"O_RDONLY": 0, ...}: the C headers' constants the TS side needs.
Napi::Object NumberTable(Napi::Env env, std::initializer_list<std::pair<const char*, double>> entries);
