// An OCI image layout tarball of a directory, as `ctr images import` takes it
// (the busybox test image of the containerd suites).
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** An OCI image layout tarball of a directory, as `ctr images import` takes it. */
export function imageTar(dir: string, rootfs: string, name: string, config: Record<string, unknown>): string {
  const work = mkdtempSync(join(dir, "img-"));
  const blobs = join(work, "layout", "blobs", "sha256");
  mkdirSync(blobs, { recursive: true });
  const blob = (file: string) => {
    const data = readFileSync(file);
    const digest = createHash("sha256").update(data).digest("hex");
    renameSync(file, join(blobs, digest));
    return { digest: `sha256:${digest}`, size: data.length };
  };
  spawnSync("tar", ["-C", rootfs, "-cf", join(work, "layer.tar"), "."]);
  const layer = blob(join(work, "layer.tar"));
  writeFileSync(join(work, "cfg"), JSON.stringify({ architecture: "amd64", os: "linux", config, rootfs: { type: "layers", diff_ids: [layer.digest] } }));
  const cfg = blob(join(work, "cfg"));
  writeFileSync(join(work, "man"), JSON.stringify({
    schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: { mediaType: "application/vnd.oci.image.config.v1+json", ...cfg },
    layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
  }));
  const man = blob(join(work, "man"));
  writeFileSync(join(work, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  const ref = name.slice(name.lastIndexOf(":") + 1);
  writeFileSync(join(work, "layout", "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", ...man, annotations: { "io.containerd.image.name": name, "org.opencontainers.image.ref.name": ref } }] }));
  const tar = join(work, "image.tar");
  spawnSync("tar", ["-C", join(work, "layout"), "-cf", tar, "."]);
  return tar;
}
