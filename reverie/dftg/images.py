"""Which images a diagnosis describes: a list file (JSONL with ``image`` and optional ``split``, such as the world's
``scenes.jsonl``, or a COCO instances JSON) filtered by split and capped, resolved against an image folder."""

from __future__ import annotations

from pathlib import Path

from reverie.eval.io import EvalDataError, read_json, read_jsonl, resolve_image


def list_images(list_file: str | Path, image_dir: str | Path, split: str | None, limit: int | None) -> list[Path]:
    """Image paths in file order; ``split`` (None = all) must match the rows' ``split`` field."""
    path = Path(list_file)
    if path.suffix == ".json":
        data = read_json(path)
        if not isinstance(data, dict) or not isinstance(data.get("images"), list):
            raise EvalDataError(path, None, "expected a COCO instances file with an 'images' list")
        rows = [(None, {"image": im.get("file_name")}) for im in data["images"]]
    else:
        rows = list(read_jsonl(path))
    chosen = []
    for line, row in rows:
        if not row.get("image"):
            raise EvalDataError(path, line, "missing key 'image' (or 'file_name')")
        if split is not None and row.get("split", split) != split:
            continue
        chosen.append(resolve_image(str(row["image"]), image_dir, path, line))
        if limit is not None and len(chosen) == limit:
            break
    if not chosen:
        raise EvalDataError(path, None, f"no images for split {split!r}")
    return chosen
