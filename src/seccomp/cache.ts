// Compiled programs of this process, keyed by their compiler input (the encoded
// filter, which already names the compiler's architectures and rules): a process
// that creates many containers with one profile (the containerd shim, the tests)
// compiles it once. Nothing is kept on disk: compiling takes ~0.1-0.4 ms, less
// than reading and checking a cached file would.
const MEMORY_ENTRIES = 32;
const memory = new Map<string, Buffer>();

export function memoryGet(key: string): Buffer | undefined {
  const v = memory.get(key);
  if (v) {
    memory.delete(key); // most recently used last
    memory.set(key, v);
  }
  return v;
}

export function memorySet(key: string, program: Buffer): void {
  memory.set(key, program);
  if (memory.size > MEMORY_ENTRIES) memory.delete(memory.keys().next().value!);
}

export function memoryClear(): void {
  memory.clear();
}
