"""Which code and which inputs made a run or a cached artefact.

- `code_version()`: the git commit of the checkout reverie runs from (and whether its tree was dirty), or the
  installed package version outside a checkout; recorded in every run's `summary.json` and W&B config.
- `source_hash(...)`: a hash of the source files that build a cached thing (the world, the tower, the base); it is
  part of that cache's key, so a cache made by other code is never reused silently.
- `cache_key(obj)`: the key of a cache entry from what it depends on (canonical JSON, hashed).
- `content_hash(path)`: a hash of a file's or a folder's bytes, for recording what exactly a run used.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from functools import cache
from importlib import metadata
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parent


@cache
def code_version() -> dict[str, str | bool | None]:
    """{"commit": git HEAD or None, "dirty": uncommitted changes to tracked or untracked files, "version": package}."""
    try:
        version = metadata.version("reverie")
    except metadata.PackageNotFoundError:
        version = None
    commit, dirty = None, None
    repo = PACKAGE_ROOT.parent
    if (repo / ".git").exists():
        try:
            commit = _git(repo, "rev-parse", "HEAD")
            dirty = bool(_git(repo, "status", "--porcelain", "--untracked-files=normal", "--", "."))
        except (OSError, subprocess.CalledProcessError):
            commit, dirty = None, None
    return {"commit": commit, "dirty": dirty, "version": version}


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, timeout=30
    ).stdout.strip()


def code_label(version: dict | None) -> str:
    """Short form for tables: `abc1234`, `abc1234+dirty`, `package 0.1.0`, or `unknown`."""
    if not version:
        return "unknown"
    if version.get("commit"):
        return version["commit"][:7] + ("+dirty" if version.get("dirty") else "")
    return f"package {version['version']}" if version.get("version") else "unknown"


@cache
def source_hash(*parts: str) -> str:
    """sha256 (16 hex) over the `.py` files of the given package parts (`world`, `models/vision.py`, ...), by path and
    bytes. Any change to the code that builds a cached thing changes the hash, and so the cache key."""
    digest = hashlib.sha256()
    for part in sorted(parts):
        target = PACKAGE_ROOT / part
        if not target.exists():
            raise FileNotFoundError(f"source_hash: no such part of the reverie package: {part}")
        files = sorted(target.rglob("*.py")) if target.is_dir() else [target]
        for file in files:
            digest.update(file.relative_to(PACKAGE_ROOT).as_posix().encode() + b"\0")
            digest.update(file.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def cache_key(keyed: object, length: int = 12) -> str:
    """A cache key: sha256 (first `length` hex) of `keyed` as canonical JSON (sorted keys; other objects as str)."""
    return hashlib.sha256(json.dumps(keyed, sort_keys=True, default=str).encode()).hexdigest()[:length]


def content_hash(path: str | Path) -> str:
    """sha256 (16 hex) of a file's bytes, or of every file below a folder (relative paths and bytes, sorted)."""
    path = Path(path)
    digest = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        digest.update(file.relative_to(path).as_posix().encode() + b"\0" if path.is_dir() else b"")
        with file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()[:16]


def command_line() -> str:
    """The command that started this process, as a shell would take it back."""
    argv = list(sys.argv)
    if argv and argv[0].endswith(".py") and "reverie" in Path(argv[0]).parts:
        module = ".".join(Path(argv[0]).resolve().relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        argv = ["python", "-m", module.removesuffix(".__main__"), *argv[1:]]
    return shlex.join(argv)
