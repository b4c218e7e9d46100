#!/bin/busybox sh
# Stage 1 of the ocirt VM lane: PID 1 of the initramfs (busybox only).
# Builds the guest's root: the host's / (9p, read-only) under a tmpfs overlay,
# a scratch filesystem for /tmp, /var/tmp and /var/lib/containerd, the guest's
# own /proc, /sys and /dev, then hands over to systemd or to the runner.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

say() { echo "ocirt-vm init: $*"; }
die() {
	say "FATAL: $*"
	[ -w /ctl ] && echo "$*" >> /ctl/init-error
	sync
	poweroff -f
	sleep 10
}
grep -q 'ocirt_vm.debug' /proc/cmdline && set -x

while read -r m; do
	insmod "/modules/$m" || say "insmod $m failed"
done < /modules/order

P9=trans=virtio,version=9p2000.L,msize=512000
mkdir -p /ctl /host /up /new
mount -t 9p -o $P9,cache=none ctl /ctl || die "cannot mount the ctl share"
. /ctl/env
cut -d' ' -f1 /proc/uptime > /ctl/t_init
mount -t 9p -o $P9,ro,cache=loose host /host || die "cannot mount the host's root"

# the root: the host's / with a tmpfs on top (all writes vanish with the VM)
mount -t tmpfs -o mode=755 rootfs-upper /up || die "tmpfs for the root overlay"
mkdir -p /up/upper /up/work
mount -t overlay -o lowerdir=/host,upperdir=/up/upper,workdir=/up/work root /new || die "root overlay"
N=/new

# control directory of this run
mkdir -p $N/.ocirt-vm
mount --move /ctl $N/.ocirt-vm || die "moving the ctl share"

# scratch: a real filesystem (not an overlay over 9p, where overlay mounts and
# containerd's overlayfs snapshotter fail with EINVAL)
mkdir -p $N/scratch
case "$VM_SCRATCH" in
ext4) mount -t ext4 -o noatime /dev/vda $N/scratch || die "mounting the ext4 scratch disk /dev/vda" ;;
*) mount -t tmpfs -o mode=755,size="$VM_SCRATCH_SIZE" scratch $N/scratch || die "scratch tmpfs" ;;
esac
mkdir -p $N/scratch/tmp $N/scratch/var-tmp $N/scratch/containerd
chmod 1777 $N/scratch/tmp $N/scratch/var-tmp
mkdir -p $N/tmp $N/var/tmp $N/var/lib/containerd
mount --bind $N/scratch/tmp $N/tmp
mount --bind $N/scratch/var-tmp $N/var/tmp
mount --bind $N/scratch/containerd $N/var/lib/containerd

# identity; nothing of the host's boot configuration
echo ocirt-vm > $N/etc/hostname
hostname ocirt-vm
echo "$VM_MACHINE_ID" > $N/etc/machine-id
echo '# ocirt-vm: the root is set up by the initramfs' > $N/etc/fstab
[ -e $N/etc/crypttab ] && : > $N/etc/crypttab
# a container runtime's marker files would make systemd believe it runs in a
# container (it then ignores the kernel command line)
rm -f $N/.dockerenv $N/.containerenv $N/run/.containerenv $N/run/systemd/container
# the guest kernel's modules (the host's /lib/modules are another kernel's)
mkdir -p $N/lib/modules
mount --bind "/host$VM_KDIR/lib/modules" $N/lib/modules || say "no modules for the guest kernel"
ip link set lo up

# the guest's own API filesystems over the host's, which the 9p root shows too;
# checked, since systemd would otherwise talk to the host's procfs through 9p
BOOT_ID=$(cat /proc/sys/kernel/random/boot_id)
mount --move /proc $N/proc
mount --move /sys $N/sys
mount --move /dev $N/dev
[ "$(cat $N/proc/sys/kernel/random/boot_id)" = "$BOOT_ID" ] || die "the guest's /proc is not in place"
mount -t tmpfs -o mode=755,nosuid,nodev,size=20% run $N/run
mkdir -p $N/run/lock
chmod 1777 $N/run/lock

# writable host directories, at their own paths
for s in $VM_SHARES; do
	tag=${s%%:*} path=${s#*:}
	mkdir -p "$N$path"
	mount -t 9p -o $P9,cache=mmap "$tag" "$N$path" || die "cannot mount the share $path"
done

if [ "$VM_MODE" = systemd ]; then
	S=$N/etc/systemd/system
	if [ "$VM_KEEP_UNITS" != 1 ]; then
		# units the host admin enabled (containerd, docker, cron, ...): not in the guest
		for f in "$S"/*.wants/* "$S"/*.requires/* "$S"/default.target; do
			if [ -e "$f" ] || [ -L "$f" ]; then rm -f "$f"; fi
		done
	fi
	for u in $VM_MASKS; do
		rm -f "$S/$u"
		ln -s /dev/null "$S/$u"
	done
	mkdir -p "$S/multi-user.target.wants" $N/etc/systemd/journald.conf.d $N/etc/tmpfiles.d
	cat > "$S/ocirt-vm-run.service" <<-EOF
	[Unit]
	Description=ocirt VM lane: the command
	After=multi-user.target
	[Service]
	Type=exec
	ExecStart=/bin/bash /.ocirt-vm/runner
	StandardInput=null
	StandardOutput=journal+console
	StandardError=journal+console
	TasksMax=infinity
	EOF
	ln -sf ../ocirt-vm-run.service "$S/multi-user.target.wants/ocirt-vm-run.service"
	printf '[Journal]\nStorage=volatile\n' > $N/etc/systemd/journald.conf.d/ocirt-vm.conf
	# Debian's tmp.conf says "D /tmp": keep /tmp as the init made it
	echo 'd /tmp 1777 root root -' > $N/etc/tmpfiles.d/tmp.conf
	cut -d' ' -f1 $N/proc/uptime > $N/.ocirt-vm/t_switch
	exec switch_root $N /lib/systemd/systemd
	die "switch_root to systemd failed"
fi

# plain mode: the rest of the API filesystems, then the runner as PID 1
mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $N/sys/fs/cgroup ||
	mount -t cgroup2 cgroup2 $N/sys/fs/cgroup || die "mounting cgroup2"
mkdir -p $N/dev/pts $N/dev/shm $N/dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $N/dev/pts
mount -t tmpfs -o mode=1777,nosuid,nodev shm $N/dev/shm
mount -t mqueue mqueue $N/dev/mqueue
mount -t bpf bpf $N/sys/fs/bpf 2>/dev/null
mount -t debugfs debugfs $N/sys/kernel/debug 2>/dev/null
ln -sf /proc/self/fd $N/dev/fd
ln -sf fd/0 $N/dev/stdin
ln -sf fd/1 $N/dev/stdout
ln -sf fd/2 $N/dev/stderr
cut -d' ' -f1 $N/proc/uptime > $N/.ocirt-vm/t_switch
# switch_root, not chroot: a chrooted process cannot create user namespaces,
# and paths read back from /proc would carry the /new prefix
exec switch_root $N /bin/bash /.ocirt-vm/runner
die "switch_root failed"
