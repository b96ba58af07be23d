#!/bin/sh
# ptwatch guest /init: mount the basics, set up zram swap, run the tests in
# /tests (or those named by ptwatch.tests= on the kernel command line), report
# a KTAP-style summary line on the console and power off.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t tmpfs tmp /tmp
# debugfs: the kernel selftests' GUP cases use /sys/kernel/debug/gup_test
# (CONFIG_GUP_TEST: in our own kernel config, not in Debian's)
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
echo "ptwatch-init: kernel $(uname -r) on $(uname -m), $(grep -c ^processor /proc/cpuinfo) cpus, up $(cut -d" " -f1 /proc/uptime) s"

# kallsyms for symbolized logs (the launcher boots once with
# ptwatch.kallsyms and keeps the text symbols, and on x86-64 the per-CPU
# current task pointer, which names the running task to PTE_ABA, and the
# data symbols guest_linux_mm.c reads: the BTF's bounds, where the struct
# pages are, the swap devices; with nokaslr they are stable)
if grep -q 'ptwatch.kallsyms' /proc/cmdline; then
	echo "ptwatch-kallsyms-begin"
	grep -E '^[0-9a-f]+ ([tTwW] |[aAdDbBrR] (pcpu_hot|current_task|__start_BTF|__stop_BTF|vmemmap_base|page_offset_base|memstart_addr|swap_info)$)' /proc/kallsyms
	echo "ptwatch-kallsyms-end"
	sync
	poweroff -f
fi

# a block device for tests that need one (O_DIRECT), when the launcher
# attached a disk
modprobe virtio_pci 2>/dev/null
modprobe virtio_mmio 2>/dev/null
modprobe virtio_blk 2>/dev/null

# setup_failed WHY: the environment the tests need is not there; say so in
# one line (the launcher reports it, exit 3) and power off without testing
setup_failed() {
	echo "ptwatch-init: setup failed: $*"
	sync
	poweroff -f
}

# zram swap (lz4): every seed scenario swaps, so no swap is a failed setup
# (zram may be built in: then modprobe fails but the device exists)
modprobe zram 2>/dev/null
[ -e /sys/block/zram0 ] || setup_failed "no zram device (zram module missing from the initramfs?)"
echo lz4 > /sys/block/zram0/comp_algorithm 2>/dev/null ||
	echo "ptwatch-init: lz4 unavailable, zram uses $(cat /sys/block/zram0/comp_algorithm)"
echo 64M > /sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
	swapon /dev/zram0 || setup_failed "cannot enable zram swap"
echo "ptwatch-init: zram swap on"

# mTHP: 16K, 32K and 64K anonymous folios on (the seed scenarios set the
# sizes they need again themselves); a kernel without a size lacks its file
thp=/sys/kernel/mm/transparent_hugepage
on=""
for kb in 16 32 64; do
	f=$thp/hugepages-${kb}kB/enabled
	[ -w "$f" ] && echo always > "$f" 2>/dev/null && on="$on ${kb}K"
done
echo "ptwatch-init: mTHP on:${on:- none}"

# hugetlb: 4 pages of each size up to 2 MiB (arm64: 64K contiguous-PTE and
# 2M; x86: 2M) for the tests that use them, such as the kernel's cow
# selftest; larger sizes would take too much of the guest's memory
hp=""
for d in /sys/kernel/mm/hugepages/hugepages-*kB; do
	kb=${d##*hugepages-}
	kb=${kb%kB}
	[ -w "$d/nr_hugepages" ] && [ "$kb" -le 2048 ] 2>/dev/null || continue
	echo 4 > "$d/nr_hugepages" 2>/dev/null
	hp="$hp $(cat "$d/nr_hugepages")x${kb}K"
done
echo "ptwatch-init: hugetlb pages:${hp:- none}"

tests=""
for arg in $(cat /proc/cmdline); do
	case "$arg" in ptwatch.tests=*) tests=$(echo "${arg#ptwatch.tests=}" | tr , ' ') ;; esac
done
# (the files: a directory there is what a test needs beside it)
[ -n "$tests" ] || tests=$(cd /tests 2>/dev/null && for f in *; do [ -f "$f" ] && echo "$f"; done)
n=0 failed=0
for t in $tests; do
	[ -x "/tests/$t" ] || { echo "ptwatch-init: test $t missing"; failed=$((failed + 1)); continue; }
	n=$((n + 1))
	echo "ptwatch-init: running $t"
	t0=$(cut -d' ' -f1 /proc/uptime)
	"/tests/$t"
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "ptwatch-init: $t took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	if [ $rc -gt 128 ]; then
		failed=$((failed + 1))
		echo "ptwatch-init: $t killed by signal $((rc - 128))"
	elif [ $rc != 0 ]; then
		failed=$((failed + 1))
		echo "ptwatch-init: $t exited $rc"
	fi
done
echo "ptwatch-init: done, $n tests, $failed failed"
sync
poweroff -f
