#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Writes the files nginx serves to the tests (idempotent, deterministic content)."""
import array
import hashlib
import os
import sys


def pattern(size, seed):
    """size bytes of reproducible pseudo-random data."""
    out = bytearray()
    block = hashlib.sha256(seed.encode()).digest()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(block + counter.to_bytes(8, "little")).digest() * 128
        counter += 1
    return bytes(out[:size])


def main():
    root = sys.argv[1]
    os.makedirs(os.path.join(root, "slow"), exist_ok=True)
    files = {
        "hello.txt": b"hello, OpenDO\n",
        "empty.bin": b"",
        "4m.bin": pattern(4 << 20, "4m"),
        "slow/8m.bin": pattern(8 << 20, "8m"),
        # Long enough at /throttled/'s 2 MB/s for a process to be killed in the middle.
        "24m.bin": pattern(24 << 20, "24m"),
        # The same at four connections of 2 MB/s (a job fetches large files in parts).
        "96m.bin": pattern(96 << 20, "96m"),
        # IDODownload's large download with status callbacks (test_download), and the file
        # fetched twice through the test cache host (test_cachehost): one origin fetch.
        "64m.bin": pattern(64 << 20, "64m"),
        # What the test cache host serves for /cache-corrupt/4m.bin: same size, other bytes.
        "4m-other.bin": pattern(4 << 20, "4m-other"),
        # Every 4-byte word holds its own index (little-endian): no two offsets look alike,
        # so a byte range fetched from the wrong place cannot go unnoticed.
        "ranges.bin": array.array("I", range(2 << 20)).tobytes(),
    }
    for name, data in files.items():
        path = os.path.join(root, name)
        if os.path.exists(path) and os.path.getsize(path) == len(data):
            continue
        with open(path + ".new", "wb") as f:
            f.write(data)
        os.replace(path + ".new", path)
    # Another time than 4m.bin's, so that nginx's ETag (time and size) tells them apart.
    other = os.path.join(root, "4m-other.bin")
    os.utime(other, (1500000000, 1500000000))


if __name__ == "__main__":
    main()
