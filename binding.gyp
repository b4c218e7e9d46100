{
  # Two targets: the Node addon (parent side: spawn, fd passing, pidfd, seccomp
  # compiler) and the static container-init helper that runs inside the container
  # before the user's program. The helper is a separate executable so that what
  # runs in the container is never the host node binary (CVE-2019-5736).
  "targets": [
    {
      "target_name": "ocirt_native",
      "sources": [
        "addon/native.cc",
        "addon/spawn.cc",
        "addon/syscalls.cc",
        "addon/cgroup_devices.cc",
        "addon/userns.cc",
        "addon/criu.cc",
        "addon/fs.cc",
        "addon/seccomp/compile.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "addon"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "cflags_cc": ["-std=c++20", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-exceptions", "-fvisibility=hidden"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17", "-std=c++17"],
      "ldflags": ["-static-libstdc++", "-static-libgcc", "-Wl,--exclude-libs,ALL"]
    },
    {
      "target_name": "ocirt-init",
      "type": "executable",
      "sources": [
        "addon/init/init.c", "addon/init/sync.c", "addon/init/paths.c", "addon/init/procfs.c",
        "addon/init/rootfs.c", "addon/init/idmap.c", "addon/init/process.c", "addon/init/exec.c", "addon/init/ops.c",
        "addon/init/sys_linux.c"
      ],
      "include_dirs": ["addon"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter", "-fno-stack-protector"],
      "ldflags": ["-static"],
      "cflags!": ["-fPIC"],
      "ldflags!": ["-rdynamic"]
    },
    {
      # containerd's shim command: `start` and the clean `delete` in C, everything
      # else by exec of node on bin/containerd-shim-ocirt-v2.js (addon/shim/launcher.c)
      "target_name": "containerd-shim-ocirt-v2",
      "type": "executable",
      "sources": ["addon/shim/launcher.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-static"],
      "cflags!": ["-fPIC"],
      "ldflags!": ["-rdynamic"]
    },
    {
      # the ocirt command (bin/ocirt links here): runs bin/ocirt.js on the engine the
      # build chose, with the caller's environment as given (addon/launcher/ocirt.c)
      "target_name": "ocirt",
      "type": "executable",
      "sources": ["addon/launcher/ocirt.c"],
      "cflags": ["-std=gnu11", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "ldflags": ["-static"],
      "cflags!": ["-fPIC"],
      "ldflags!": ["-rdynamic"]
    }
  ]
}
