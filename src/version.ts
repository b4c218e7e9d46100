// Replaced at bundle time by scripts/build.mjs (esbuild `define`); the fallbacks
// serve tests that run the sources directly.
declare const __OCIRT_VERSION__: string | undefined;
declare const __OCIRT_COMMIT__: string | undefined;
export const VERSION = typeof __OCIRT_VERSION__ === "string" ? __OCIRT_VERSION__ : "0.0.0-dev";
export const COMMIT = typeof __OCIRT_COMMIT__ === "string" ? __OCIRT_COMMIT__ : "unknown";
/** The highest runtime-spec version ocirt implements. */
export const SPEC_VERSION = "1.3.0";
