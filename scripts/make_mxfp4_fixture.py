#!/usr/bin/env python3
"""Write tests/data/quant/mxfp4-gguf-py.txt: random MXFP4 blocks and gguf-py's own dequantization
of them (gguf.quants.dequantize), for tests/kernels/quant_blocks_test.cpp (MXFP4 vs gguf-py).

One line per block: 34 hex digits (the 17 block bytes: E8M0 scale, then 16 bytes of nibbles),
then the 32 dequantized f32 values as 8-hex-digit bit patterns. Deterministic (fixed seed); the
scale bytes cover the subnormal cases (0, 1), 2, 127 and 254 (large codes overflow to inf there,
as in GGML) and random values below 255.

    .venv/bin/python scripts/make_mxfp4_fixture.py tests/data/quant/mxfp4-gguf-py.txt
"""
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q


def main(path):
    rng = np.random.default_rng(20250805)
    n_blocks = 64
    blocks = rng.integers(0, 256, size=(n_blocks, 17), dtype=np.uint8)
    blocks[:, 0] = rng.integers(0, 255, size=n_blocks, dtype=np.uint8)
    blocks[:5, 0] = [0, 1, 2, 127, 254]
    blocks[5, 1:] = np.arange(16, dtype=np.uint8) * 0x11  # every code in both nibbles
    with np.errstate(over="ignore"):
        values = gguf.quants.dequantize(blocks.reshape(-1), Q.MXFP4).astype(np.float32)
    values = values.reshape(n_blocks, 32)
    with open(path, "w") as f:
        for b, v in zip(blocks, values):
            f.write(b.tobytes().hex() + " " + " ".join("%08x" % u for u in v.view(np.uint32)) + "\n")


if __name__ == "__main__":
    main(sys.argv[1])
