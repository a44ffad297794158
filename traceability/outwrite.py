"""Writing generated files into an output folder without following links
(SRS-295; issue 10 audit finding 1: a symlink out/atk/index.html ->
../../problems/PR-048.yaml made `docs --out out/atk` overwrite the record).

A file is written to a temporary name in the folder and renamed over the
target: the rename replaces a symlink or a hard link itself, never the file it
leads to. Before anything is written, a folder holding a symbolic link (to a
file or a folder, at any depth) is refused: a generated folder has none, and a
link there is either a mistake or an attack."""
from __future__ import annotations

import os
from pathlib import Path


class OutputRefused(ValueError):
    """The output folder holds a link; the message names it and where it leads."""


def refuse_links(out: Path) -> None:
    """Raise OutputRefused when `out` (not resolved) holds a symbolic link at any depth."""
    if not out.is_dir():
        return
    for folder, dirs, files in os.walk(out, followlinks=False):
        for name in sorted(dirs + files):
            path = Path(folder, name)
            if path.is_symlink():
                raise OutputRefused(f"{path} is a symbolic link (to {os.readlink(path)}) inside the output "
                                    "folder: generated files are never written through a link; remove it or "
                                    "name an empty folder such as out/docs")


def _inside(out: Path, path: Path) -> Path:
    """The path, checked to lie in `out` once every link is resolved."""
    real_out, real = out.resolve(), path.parent.resolve() / path.name
    if real.parent != real_out and real_out not in real.parents:
        raise OutputRefused(f"{path} resolves to {real}, outside the output folder {real_out}: refusing to "
                            "write it")
    return real


def write_out(out: Path, name: str, text: str, append: bool = False) -> int:
    """Write `text` (UTF-8) to out/name without following a link; return the byte count."""
    path = _inside(out, out / name)
    data = text.encode("utf-8")
    if append and path.is_file() and not path.is_symlink():
        data = path.read_bytes() + data
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)     # replaces the directory entry: a link there is replaced, not followed
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return len(data)
