// ocirt's own systemd cgroup driver in the systemd guest: the live tests of
// test/integration/systemd.test.ts (which skip themselves on hosts without systemd)
// run here as part of the systemd lane (`npm run test:vm -- --systemd`).
import "../integration/systemd.test";
