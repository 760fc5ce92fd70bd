"""Model files are loaded only when their SHA-256 is the pinned one."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.providers.base import ProviderError
from app.providers.llama.model_files import QWEN, ModelFile, qwen_path, verified

pytestmark = pytest.mark.unit

CONTENT = b"GGUF" + bytes(range(256)) * 64


def model(content: bytes) -> ModelFile:
    return ModelFile("tiny", "tiny.gguf", hashlib.sha256(content).hexdigest(), "reinstall it")


def test_a_file_with_the_pinned_hash_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    path.write_bytes(CONTENT)

    assert verified(model(CONTENT), path) == path


def test_one_changed_byte_is_refused_naming_both_hashes(tmp_path: Path) -> None:
    path = tmp_path / "tiny.gguf"
    changed = bytearray(CONTENT)
    changed[len(changed) // 2] ^= 0x01
    path.write_bytes(bytes(changed))

    with pytest.raises(ProviderError) as refused:
        verified(model(CONTENT), path)

    message = str(refused.value)
    assert "refusing to load" in message
    assert hashlib.sha256(CONTENT).hexdigest() in message
    assert hashlib.sha256(bytes(changed)).hexdigest() in message
    assert "reinstall it" in message


def test_a_missing_qwen_file_says_how_to_install_it(tmp_path: Path) -> None:
    with pytest.raises(ProviderError, match="make install"):
        qwen_path(tmp_path)
    assert QWEN.sha256 == "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
