"""Reading a user's .npz (weights or data) without trusting it.

The archive's directory and each member's .npy header are read first; a member is loaded only when
asked for, and only after its header was checked: a numeric dtype (no pickled objects), a size
below ``MAX_ARRAY_BYTES`` and equal to the bytes the archive actually holds. So an empty, truncated
or non-zip file, a lone .npy, a header claiming a huge shape, or a huge member the model never uses
costs one clear error (or nothing) instead of an allocation of GiB. Every error names the file and
what it is (``weights file`` or ``data file``).
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np

from hlsfix.errors import DataError, HlsfixError, WeightsError

MAX_ARRAY_BYTES = 256 * 2**20  # one array: far above any model that fits a microcontroller or an FPGA
NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK"


class LazyNpz(Mapping[str, np.ndarray]):
    """name → array of one .npz; each array read (and checked) on first access."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self.what = Path(path), what
        self.error: type[HlsfixError] = WeightsError if what == "weights file" else DataError
        self._cache: dict[str, np.ndarray] = {}
        self._open_check()
        try:
            with zipfile.ZipFile(self.path) as z:
                infos = z.infolist()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise self._fail(f"a readable .npz archive, not a damaged one ({e})") from None
        self._members = {i.filename[: -len(".npy")]: i for i in infos if i.filename.endswith(".npy")}

    def _fail(self, must: str) -> HlsfixError:
        return self.error(f"{self.what} {self.path} must be {must}")

    def _open_check(self) -> None:
        try:
            with open(self.path, "rb") as f:
                head = f.read(8)
        except FileNotFoundError:
            raise self.error(f"{self.what} must exist, not be missing: {self.path}") from None
        except IsADirectoryError:
            raise self._fail("a file, not a directory") from None
        except OSError as e:
            raise self._fail(f"readable, not fail to open ({e.strerror})") from None
        if not head:
            raise self._fail("a .npz archive (name → array), not empty")
        if head.startswith(NPY_MAGIC):
            raise self._fail("a .npz archive (name → array), not a single .npy array")
        if not head.startswith(ZIP_MAGIC):
            raise self._fail("a .npz archive (name → array), not another kind of file")

    def __iter__(self) -> Iterator[str]:
        return iter(self._members)

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, name: object) -> bool:
        return name in self._members

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._members:
            raise KeyError(name)
        if name not in self._cache:
            self._cache[name] = self._read(name)
        return self._cache[name]

    def _read(self, name: str) -> np.ndarray:
        info = self._members[name]
        bad = f"array {name!r} of {self.what} {self.path} must be"
        try:
            with zipfile.ZipFile(self.path) as z, z.open(info) as f:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
                header_bytes = f.tell()
                if dtype.hasobject or dtype.kind not in "biuf":
                    raise self.error(f"{bad} numeric, not of dtype {dtype}")
                nbytes = math.prod(shape) * dtype.itemsize
                if nbytes > MAX_ARRAY_BYTES:
                    raise self.error(
                        f"{bad} at most {MAX_ARRAY_BYTES // 2**20} MiB, not claim shape {shape} "
                        f"({nbytes / 2**30:.3g} GiB)"
                    )
                if nbytes != info.file_size - header_bytes:
                    raise self.error(
                        f"{bad} whole, not claim shape {shape} ({nbytes} bytes) over "
                        f"{info.file_size - header_bytes} bytes of data"
                    )
                data = f.read(nbytes)
        except HlsfixError:
            raise
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, SyntaxError) as e:
            raise self.error(f"{bad} readable, not damaged ({e})") from None
        if len(data) != nbytes:
            raise self.error(f"{bad} whole, not truncated")
        arr = np.frombuffer(data, dtype=dtype)
        order = "F" if fortran else "C"
        return arr.reshape(shape, order=order).copy()


def open_npz(path: Path, what: str = "weights file") -> LazyNpz:
    """The arrays of ``path``, checked and loaded on access (``what`` names the file in errors)."""
    return LazyNpz(Path(path), what)
