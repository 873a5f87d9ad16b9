#!/usr/bin/env python3
"""Independent check of heed's safetensors files with Python + torch (no heed code involved).

Reads a file with struct + json exactly as the safetensors format specifies (8-byte little-endian
header length N, N bytes of JSON header, then the data section), applies the reference reader's
validation rules, and loads every tensor into torch with torch.frombuffer. Use it where the
`safetensors` package is not installed; where it is, the script also compares with
safetensors.torch.load_file.

    scripts/check_safetensors.py FILE                 # validate and list tensors + metadata
    scripts/check_safetensors.py --interop FILE       # + compare with the values that
                                                      #   tests/train/safetensors_test.cpp wrote
    scripts/check_safetensors.py --checkpoint FILE    # + heed checkpoint metadata and checksum

The test files are written by the heed test suite into the build directory:
    build/tests/heed_train_test --gtest_filter='*Interop*'
    scripts/check_safetensors.py --interop build/safetensors_interop.safetensors
    scripts/check_safetensors.py --checkpoint build/checkpoint_interop.safetensors
Exits non-zero with a message on the first mismatch.
"""
import argparse
import json
import math
import struct
import sys
import zlib

import torch

MAX_HEADER = 100_000_000  # the reference reader's limit
DTYPES = {"F32": (torch.float32, 4), "I32": (torch.int32, 4), "F64": (torch.float64, 8),
          "I64": (torch.int64, 8), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2),
          "I16": (torch.int16, 2), "I8": (torch.int8, 1), "U8": (torch.uint8, 1),
          "BOOL": (torch.bool, 1)}


def fail(message):
    sys.exit(f"check_safetensors: {message}")


def load(path):
    """Returns (tensors by name in file order, metadata, raw data section)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        fail(f"{path}: shorter than 8 bytes")
    (n,) = struct.unpack("<Q", blob[:8])
    if n > MAX_HEADER or 8 + n > len(blob):
        fail(f"{path}: bad header length {n}")
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    if n % 8 != 0:
        fail(f"{path}: header length {n} is not a multiple of 8 (heed pads it)")
    if not blob[8:8 + n].decode("utf-8").startswith("{"):
        fail(f"{path}: header does not start with '{{'")
    data = blob[8 + n:]
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail(f"{path}: metadata values must be strings")
    entries = sorted(header.items(), key=lambda item: tuple(item[1]["data_offsets"]))
    tensors = {}
    expected_begin = 0
    for name, info in entries:
        if set(info) != {"dtype", "shape", "data_offsets"}:
            fail(f"{path}: {name}: keys {sorted(info)}")
        dtype, size = DTYPES[info["dtype"]]
        begin, end = info["data_offsets"]
        numel = math.prod(info["shape"])
        if begin != expected_begin or end - begin != numel * size:
            fail(f"{path}: {name}: offsets {begin, end} do not fit {info}")
        expected_begin = end
        raw = bytearray(data[begin:end])
        flat = torch.frombuffer(raw, dtype=dtype) if raw else torch.empty(0, dtype=dtype)
        tensors[name] = flat.reshape(info["shape"])
    if expected_begin != len(data):
        fail(f"{path}: tensors cover {expected_begin} bytes, data section has {len(data)}")
    try:  # the real library, when available
        from safetensors.torch import load_file
        reference = load_file(path)
        for name, tensor in tensors.items():
            if not torch.equal(reference[name], tensor):
                fail(f"{path}: {name} differs from safetensors.torch.load_file")
        print("  safetensors.torch.load_file agrees")
    except ImportError:
        print("  (safetensors package not installed: checked with the reader above only)")
    return tensors, metadata, data


def same_bits(a, b):
    return a.dtype == b.dtype and a.shape == b.shape and torch.equal(
        a.contiguous().view(torch.int32 if a.dtype == torch.float32 else a.dtype),
        b.contiguous().view(torch.int32 if b.dtype == torch.float32 else b.dtype))


def check_interop(tensors, metadata):
    """The values of Safetensors.WritesTheInteropFileForThePythonCheck."""
    expected = {
        "layer.weight": (torch.arange(6, dtype=torch.float32) * 0.5 - 1).reshape(2, 3),
        "layer.bias": torch.tensor([1e-8, -0.0, 3.4e38], dtype=torch.float32),
        "scalar": torch.tensor(3.14159274, dtype=torch.float32),
        "empty": torch.zeros(0, 4),
        "steps": torch.tensor([0, -1, 2147483647, -2147483648], dtype=torch.int32),
    }
    if list(tensors) != ["empty", "layer.bias", "layer.weight", "scalar", "steps"]:
        fail(f"file order {list(tensors)} is not the reference writer's (F32 by name, then I32)")
    for name, value in expected.items():
        if not same_bits(tensors[name], value):
            fail(f"{name}: {tensors[name]} != expected {value}")
    if metadata != {"format": "pt", "note": "h\u00e9llo \"quoted\""}:
        fail(f"metadata {metadata}")
    print("  interop values: all tensors bit-identical to the expected torch tensors")


def check_checkpoint(tensors, metadata, data):
    """heed-checkpoint-1: key set, JSON values, checksum recomputed with zlib."""
    keys = {"format", "heed_version", "counters", "optimizer", "lr_scheduler", "data", "rngs",
            "early_stopping", "config", "config_hash", "checksum"}
    optional = {"trainer"}
    if not keys <= set(metadata) <= keys | optional:
        fail(f"metadata keys {sorted(metadata)}")
    if metadata["format"] != "heed-checkpoint-1":
        fail(f"format {metadata['format']}")
    for key in (set(metadata) - {"format", "heed_version", "config_hash", "checksum"}):
        json.loads(metadata[key])
    crc = zlib.crc32(data)
    for key in sorted(metadata):  # byte order of UTF-8 keys, as std::map<std::string> sorts
        if key != "checksum":
            crc = zlib.crc32(key.encode() + b"\0", crc)
            crc = zlib.crc32(metadata[key].encode() + b"\0", crc)
    if metadata["checksum"] != f"crc32:{crc:08x}":
        fail(f"checksum {metadata['checksum']} != recomputed crc32:{crc:08x}")
    if not all(name.startswith(("model.", "optim.")) for name in tensors):
        fail("tensor names must start with model. or optim.")
    print(f"  checkpoint: checksum {metadata['checksum']} recomputed with zlib; "
          f"counters {metadata['counters']}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("file")
    parser.add_argument("--interop", action="store_true")
    parser.add_argument("--checkpoint", action="store_true")
    args = parser.parse_args()
    print(f"{args.file}:")
    tensors, metadata, data = load(args.file)
    for name, tensor in tensors.items():
        print(f"  {name:40s} {str(tensor.dtype):14s} {list(tensor.shape)}")
    print(f"  metadata keys: {sorted(metadata)}")
    if args.interop:
        check_interop(tensors, metadata)
    if args.checkpoint:
        check_checkpoint(tensors, metadata, data)


if __name__ == "__main__":
    main()
