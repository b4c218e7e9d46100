# A --console-socket listener for the stress checks (what containerd's shim does):
# accepts any number of connections, takes each pty master (SCM_RIGHTS), keeps it
# open and drains what the container writes until the pty closes. Runs until killed.
import os, select, socket, sys

srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sys.argv[1])
srv.listen(64)
open(sys.argv[1] + ".ready", "w").close()
masters = set()
conns = set()
while True:
    r, _, _ = select.select([srv, *conns, *masters], [], [], 1.0)
    for f in r:
        if f is srv:
            c, _ = srv.accept()
            conns.add(c)
        elif f in conns:
            try:
                msg, fds, _, _ = socket.recv_fds(f, 4096, 4)
            except OSError:
                msg, fds = b"", []
            for fd in fds:
                masters.add(fd)
            if not msg and not fds:
                conns.discard(f)
                f.close()
        else:
            try:
                data = os.read(f, 65536)
            except OSError:
                data = b""
            if not data:
                masters.discard(f)
                os.close(f)
