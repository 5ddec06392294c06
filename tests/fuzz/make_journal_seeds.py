#!/usr/bin/env python3
"""Writes the seed journals of fuzz_journal_reader into corpus/journal_reader/.

The format is engine/journal.hpp's: records of u32 length (LE), u32 CRC-32
(LE) of the payload, payload; payload types H, R, T, S, E. Run it again
after a format change; the seeds are committed.
"""
import os
import struct
import zlib

here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "journal_reader")


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def s(text):
    b = text.encode()
    return varint(len(b)) + b


def lines(ls):
    ls = sorted(ls)
    out, prev = varint(len(ls)), 0
    for l in ls:
        out += varint(l - prev)
        prev = l
    return out


def record(payload):
    return struct.pack("<II", len(payload), zlib.crc32(payload) & 0xFFFFFFFF) + payload


def header(size=4096, mtime=1700000000123456789, head=0xDEADBEEFCAFEF00D, types=("contacts", "companies", "v4")):
    return record(b"H" + varint(size) + varint(mtime) + struct.pack("<Q", head) + b"".join(s(t) for t in types))


def settled(outcome, category, ls):
    return record(b"S" + bytes([outcome]) + s(category) + lines(ls))


seeds = {
    "header_only": header(),
    "one_run": header() + record(b"R" + varint(1700000000000)) + record(b"T" + lines([1, 2, 3, 5]))
    + settled(0, "", [1, 2]) + settled(2, "HTTP_500", [3]) + settled(3, "bad_id", [4])
    + settled(1, "", [5]) + settled(4, "", [6]) + record(b"E" + varint(1700000001000) + b"\x00"),
    "two_runs_finished": header() + record(b"R" + varint(1)) + record(b"T" + lines(range(1, 200)))
    + settled(0, "", range(1, 150)) + record(b"E" + varint(2) + b"\x00") + record(b"R" + varint(3))
    + record(b"T" + lines(range(150, 200))) + settled(0, "", range(150, 200)) + settled(0, "", [7, 8])
    + record(b"E" + varint(4) + b"\x01"),
    "torn_tail": (header() + record(b"R" + varint(1)) + settled(0, "", [1, 2, 3]))[:-2],
    "bad_crc": header() + bytes([9, 0, 0, 0, 1, 2, 3, 4]) + b"S\x00\x00\x01\x05" + b"xxxx",
    "huge_line": header() + record(b"R" + varint(1)) + settled(0, "", [3, 1 << 60]),
    "bad_outcome": header() + settled(9, "x", [1]),
    "gzip_input_types": header(types=("p_vendor", "2-123456", "2026-09")) + settled(0, "", [1]),
}
for name, data in seeds.items():
    with open(os.path.join(here, name + ".bin"), "wb") as f:
        f.write(data)
