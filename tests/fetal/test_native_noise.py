"""A corrupted PNG makes libpng print its own line to the process's stderr;
the terminal shows only our error, which names the file."""

from __future__ import annotations

import subprocess
import sys
import zlib
from pathlib import Path

from tests.conftest import cli_subprocess


def corrupt_idat(path: Path) -> None:
    """Flip a byte inside the image data so zlib's checksum fails while the chunk
    layout stays valid (libpng then reports 'IDAT: incorrect data check')."""
    data = bytearray(path.read_bytes())
    start = data.index(b"IDAT") + 4
    data[start + 10] ^= 0xFF
    length = int.from_bytes(data[start - 8 : start - 4], "big")
    data[start + length : start + length + 4] = zlib.crc32(bytes(data[start - 4 : start + length])).to_bytes(4, "big")  # a valid chunk CRC
    path.write_bytes(bytes(data))


def test_libpng_noise_is_dropped_and_our_error_names_the_image(planes_copy: Path):
    image = sorted((planes_copy / "Images").glob("*.png"))[0]
    corrupt_idat(image)
    raw = subprocess.run([sys.executable, "-c", f"import cv2, numpy as np; cv2.imdecode(np.fromfile({str(image)!r}, np.uint8), cv2.IMREAD_UNCHANGED)"], capture_output=True, text=True)
    assert "libpng" in raw.stderr  # without the filter the library talks

    result = cli_subprocess("data", "check", "--task", "fetal-planes", "--data-root", planes_copy, "--preset", "ci")
    assert result.returncode == 2
    assert not any(line.startswith("libpng") for line in result.stderr.splitlines()) and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and image.name in result.stderr


def test_other_stderr_lines_pass_the_filter():
    code = (
        "import os, sys\n"
        "from cardiobench import native_noise\n"
        "with native_noise.filtered():\n"
        "    os.write(2, b'libpng warning: iCCP: known incorrect sRGB profile\\n[mjpeg @ 0x55d0] error count: 3\\nnative but ours\\n')\n"
        "    print('python line', file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "python line" in result.stderr and "native but ours" in result.stderr
    assert "libpng" not in result.stderr and "mjpeg" not in result.stderr
