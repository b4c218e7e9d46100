import { test } from "uvu";
import * as assert from "uvu/assert";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { defaultSpec, SPEC_VERSION } from "../../src/spec/default";
import { validateConfig } from "../../src/spec/validate";
import { ensureValidator } from "./ensure-validator";

const repo = join(__dirname, "../..");
ensureValidator();

const fixture = (name: string) => JSON.parse(readFileSync(join(repo, "test/fixtures/configs/good", name), "utf8"));

/** `runc spec` of runc 1.1 as captured in the fixtures, brought to what current runc writes. */
function asCurrentRunc(doc: any): any {
  doc.ociVersion = SPEC_VERSION;
  // runc 1.2 stopped granting the example's capabilities as ambient.
  delete doc.process.capabilities.ambient;
  return doc;
}

test("defaultSpec validates, rootful and rootless, with and without cgroup namespace", () => {
  for (const rootless of [false, true])
    for (const cgroupNamespace of [false, true]) assert.equal(validateConfig(defaultSpec({ rootless, cgroupNamespace, uid: 1000, gid: 1000 })), []);
  assert.equal(validateConfig(defaultSpec({ rootless: true })), []);
  assert.equal(validateConfig(defaultSpec({ rootless: false })), []);
});

test("defaultSpec writes what runc spec writes, key order included", () => {
  const ours = defaultSpec({ rootless: false, cgroupNamespace: false });
  assert.is(JSON.stringify(ours, null, "\t"), JSON.stringify(asCurrentRunc(fixture("runc-1.1-spec.json")), null, "\t"));
});

test("defaultSpec --rootless writes what runc spec --rootless writes", () => {
  // The fixture was captured as root: both ids map to 0.
  const ours = defaultSpec({ rootless: true, cgroupNamespace: false, uid: 0, gid: 0 });
  assert.is(JSON.stringify(ours, null, "\t"), JSON.stringify(asCurrentRunc(fixture("runc-1.1-spec-rootless.json")), null, "\t"));
});

test("rootless maps the given ids and drops network, cgroup limits and uid=/gid= options", () => {
  const s = defaultSpec({ rootless: true, cgroupNamespace: true, uid: 1000, gid: 100 });
  assert.equal(s.linux!.uidMappings, [{ containerID: 0, hostID: 1000, size: 1 }]);
  assert.equal(s.linux!.gidMappings, [{ containerID: 0, hostID: 100, size: 1 }]);
  assert.equal(s.linux!.namespaces!.map((n) => n.type), ["pid", "ipc", "uts", "mount", "cgroup", "user"]);
  assert.is(s.linux!.resources, undefined);
  assert.ok(s.mounts!.every((m) => !(m.options ?? []).some((o) => o.startsWith("gid=") || o.startsWith("uid="))));
  assert.equal(s.mounts!.find((m) => m.destination === "/sys"), {
    destination: "/sys",
    type: "none",
    source: "/sys",
    options: ["rbind", "nosuid", "noexec", "nodev", "ro"],
  });
});

test("each call returns a fresh document", () => {
  const a = defaultSpec({ rootless: false, cgroupNamespace: false });
  a.process!.capabilities!.bounding!.push("CAP_SYS_ADMIN");
  const b = defaultSpec({ rootless: false, cgroupNamespace: false });
  assert.equal(b.process!.capabilities!.bounding, ["CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
});

test.run();
