"""bench_data.py: the MNIST-format (IDX) reader and the optlab model-file reader shared by the
PyTorch and numpy scripts of the benchmark. Standard library + numpy only.

Images stay uint8, as optlab keeps them; every script converts a batch to float32 in [0, 1]
(pixel / 255, no normalization) when it uses it, which is the same work optlab does per step."""
import gzip
import os
import struct
import zlib

import numpy as np

DEFAULT_DIR = os.environ.get("OPTLAB_FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist")


def _open(path):
    if os.path.exists(path):
        return open(path, "rb")
    if os.path.exists(path + ".gz"):
        return gzip.open(path + ".gz", "rb")
    raise FileNotFoundError(f"{path}[.gz] not found")


def read_idx(path):
    """An IDX file (raw or .gz) as a numpy uint8 array of its shape."""
    with _open(path) as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    if magic >> 8 != 0x08:
        raise ValueError(f"{path}: not an unsigned-byte IDX file (magic {magic:#x})")
    n_dims = magic & 0xFF
    dims = struct.unpack(">" + "I" * n_dims, data[4:4 + 4 * n_dims])
    payload = np.frombuffer(bytearray(data), dtype=np.uint8, offset=4 + 4 * n_dims)  # writable
    if payload.size != int(np.prod(dims)):
        raise ValueError(f"{path}: header says {dims}, payload has {payload.size} bytes")
    return payload.reshape(dims)


def load(data_dir=DEFAULT_DIR, subset=0):
    """(x_train, y_train, x_test, y_test): images as (n, 784) uint8, labels as int64.
    subset > 0 keeps the first `subset` training examples (optlab's --subset)."""
    def pair(prefix):
        x = read_idx(os.path.join(data_dir, f"{prefix}-images-idx3-ubyte"))
        y = read_idx(os.path.join(data_dir, f"{prefix}-labels-idx1-ubyte"))
        return np.ascontiguousarray(x.reshape(x.shape[0], -1)), y.astype(np.int64)
    x_train, y_train = pair("train")
    x_test, y_test = pair("t10k")
    if subset:
        x_train, y_train = x_train[:subset], y_train[:subset]
    return x_train, y_train, x_test, y_test


def read_optlab_model(path):
    """An optlab model file (nn.h: "OLMODEL1", u32 version, u32 spec length, spec, f32 input_mean,
    f32 input_inv_std, u64 n_params, n_params float32, u32 CRC-32) as
    (spec, sizes, [(W (in, out), b (out)) per layer], input_mean, input_inv_std)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"OLMODEL1":
        raise ValueError(f"{path}: not an optlab model file")
    _version, spec_len = struct.unpack_from("<II", data, 8)
    pos = 16
    spec = data[pos:pos + spec_len].decode()
    pos += spec_len
    input_mean, input_inv_std = struct.unpack_from("<ff", data, pos)
    pos += 8
    n_params, = struct.unpack_from("<Q", data, pos)
    pos += 8
    params = np.frombuffer(data, dtype="<f4", count=n_params, offset=pos)
    pos += 4 * n_params
    crc, = struct.unpack_from("<I", data, pos)
    if zlib.crc32(data[:pos]) != crc:
        raise ValueError(f"{path}: CRC mismatch")
    sizes = [int(s) for s in spec.split(":")[1].split(",")[0].split("-")]
    layers, off = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = params[off:off + fan_in * fan_out].reshape(fan_in, fan_out)
        off += fan_in * fan_out
        b = params[off:off + fan_out]
        off += fan_out
        layers.append((w, b))
    if off != n_params:
        raise ValueError(f"{path}: spec {spec} needs {off} parameters, file has {n_params}")
    return spec, sizes, layers, input_mean, input_inv_std
