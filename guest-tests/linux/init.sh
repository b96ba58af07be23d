#!/bin/sh
# ptwatch guest /init: mount the basics, set up zram swap, run the tests in
# /tests (or those named by ptwatch.tests= on the kernel command line), report
# a KTAP-style summary line on the console and power off.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
echo "ptwatch-init: kernel $(uname -r) on $(uname -m), $(grep -c ^processor /proc/cpuinfo) cpus"

# a block device for tests that need one (O_DIRECT), when the launcher
# attached a disk
modprobe virtio_pci 2>/dev/null
modprobe virtio_mmio 2>/dev/null
modprobe virtio_blk 2>/dev/null

# zram swap (lz4), where the kernel has it
if modprobe zram 2>/dev/null && [ -e /sys/block/zram0 ]; then
	echo lz4 > /sys/block/zram0/comp_algorithm 2>/dev/null
	echo 64M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
		swapon /dev/zram0 && echo "ptwatch-init: zram swap on"
else
	echo "ptwatch-init: no zram (module missing?)"
fi

# kallsyms for symbolized logs (the launcher boots once with
# ptwatch.kallsyms and keeps the text symbols; with nokaslr they are stable)
if grep -q 'ptwatch.kallsyms' /proc/cmdline; then
	echo "ptwatch-kallsyms-begin"
	grep -E '^[0-9a-f]+ [tTwW] ' /proc/kallsyms
	echo "ptwatch-kallsyms-end"
	sync
	poweroff -f
fi

tests=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in ptwatch.tests=*) tests=$(echo "${arg#ptwatch.tests=}" | tr , ' ') ;; esac
done
[ -n "$tests" ] || tests=$(ls /tests 2>/dev/null)
n=0 failed=0
for t in $tests; do
	[ -x "/tests/$t" ] || { echo "ptwatch-init: test $t missing"; failed=$((failed + 1)); continue; }
	n=$((n + 1))
	echo "ptwatch-init: running $t"
	"/tests/$t"
	rc=$?
	[ $rc = 0 ] || { failed=$((failed + 1)); echo "ptwatch-init: $t exited $rc"; }
done
echo "ptwatch-init: done, $n tests, $failed failed"
sync
poweroff -f
