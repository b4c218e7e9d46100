#!/bin/bash
# Runs the command in the guest's final root: as PID 1 (plain mode) or from
# ocirt-vm-run.service (systemd mode). Output goes to files in the ctl share,
# which the host streams as they grow; the exit status is written last.
exec </dev/null
C=/.ocirt-vm
. $C/env
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 TERM=dumb

uptime_now() { cut -d' ' -f1 /proc/uptime; }

if [ "$VM_MODE" = systemd ]; then
	systemctl is-system-running --wait > $C/sysstate 2>&1 ||
		systemctl --failed --no-legend --no-pager --plain > $C/failed 2>&1
fi
uptime_now > $C/t_start
if cd "$VM_CWD" 2> $C/stderr; then
	bash $C/cmd > $C/stdout 2> $C/stderr
	rc=$?
else
	echo "ocirt-vm: the working directory $VM_CWD is not there in the guest" >> $C/stderr
	rc=125
fi
uptime_now > $C/t_end
echo $rc > $C/rc.tmp
mv $C/rc.tmp $C/rc
sync
# the host kills QEMU as soon as it sees rc; this is the fallback
if [ "$VM_MODE" = systemd ]; then
	systemctl poweroff -ff
else
	echo o > /proc/sysrq-trigger
fi
sleep 60
