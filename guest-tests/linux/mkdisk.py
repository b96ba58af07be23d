#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the disk image the cow_gup guest test reads with O_DIRECT.

    mkdisk.py OUTPUT [SIZE_MIB]      (SIZE_MIB defaults to 4)

The 8-byte little-endian word at byte offset o is 0x5054574400000000 | (o / 8),
so every word says where on the disk it came from. Attach it read-only as the
guest's first virtio-blk disk (/dev/vda):

    -drive file=OUTPUT,if=virtio,format=raw,readonly=on
"""
import struct
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    size = int(sys.argv[2] if len(sys.argv) == 3 else 4) << 20
    magic = 0x5054574400000000
    chunk = 1 << 16  # words per write
    with open(sys.argv[1] + ".tmp", "wb") as f:
        for base in range(0, size // 8, chunk):
            n = min(chunk, size // 8 - base)
            f.write(struct.pack("<%dQ" % n, *range(magic | base, magic | (base + n))))
    import os
    os.replace(sys.argv[1] + ".tmp", sys.argv[1])


if __name__ == "__main__":
    main()
