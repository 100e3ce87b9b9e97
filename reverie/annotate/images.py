"""The images to annotate: every image file under a folder (recursively), or the paths in a list file.

Each image has a name (its path relative to the root: what records store as "image") and its file on disk.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from reverie.errors import InputError, MissingFileError

EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")


@dataclass(frozen=True)
class ImageRef:
    """``name``: path relative to the image root, as written to records; ``path``: the file (None: not on disk, for
    backends that need only the name, as the world oracle inside the world build)."""

    name: str
    path: Path | None

    @property
    def stem(self) -> str:
        return self.name.rsplit(".", 1)[0]


def list_images(source: str | Path) -> tuple[Path, list[ImageRef]]:
    """(image root, images): a folder is searched recursively for image files, sorted by relative path; a list file
    (.txt: one path per line, '#' comments; .json: a list of paths) names images relative to its own folder."""
    source = Path(source).expanduser()
    if source.is_dir():
        root = source.resolve()
        files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in EXTENSIONS)
        images = [ImageRef(p.relative_to(root).as_posix(), p) for p in files]
        if not images:
            raise InputError(f"images={source}: no image files ({', '.join(EXTENSIONS)}) in this folder")
        return root, images
    if not source.is_file():
        raise MissingFileError(f"images={source}: no such folder or list file")
    root = source.resolve().parent
    names = _read_list(source)
    seen: set[str] = set()
    images = []
    for where, name in names:
        path = (root / name).resolve()
        if not path.is_file():
            raise MissingFileError(f"{source}:{where}: image file not found: {path}")
        if name in seen:
            raise InputError(f"{source}:{where}: image {name!r} is listed twice")
        seen.add(name)
        images.append(ImageRef(name, path))
    if not images:
        raise InputError(f"images={source}: the list names no images")
    return root, images


def _read_list(path: Path) -> list[tuple[str, str]]:
    """(where, name) pairs: 'line N' for text lists, 'item N' for JSON lists."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise InputError(f"{path}:{error.lineno}: not JSON ({error.msg})") from error
        if not isinstance(data, list) or not all(isinstance(x, str) and x for x in data):
            raise InputError(f"{path}: a JSON image list must be a list of non-empty path strings")
        return [(f"item {i}", x) for i, x in enumerate(data)]
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        name = line.strip()
        if name and not name.startswith("#"):
            out.append((f"line {n}", name))
    return out
