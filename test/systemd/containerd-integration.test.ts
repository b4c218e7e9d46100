// containerd with SystemdCgroup (ctr --runc-systemd-cgroup, the shim running ocirt with
// --systemd-cgroup) in the systemd guest: test/integration/containerd.test.ts, whose
// SystemdCgroup test skips itself on hosts without systemd, run as part of the systemd lane.
import "../integration/containerd.test";
