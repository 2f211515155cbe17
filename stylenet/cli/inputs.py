"""Turn ``input=FILE|DIR|GLOB`` and ``output=FILE|DIR`` into (source, destination) pairs."""

from __future__ import annotations

import glob
from dataclasses import dataclass
from pathlib import Path

from stylenet.data.image_files import SAVE_FORMATS, is_image_file, list_images
from stylenet.errors import ConfigError, ImageError


@dataclass(frozen=True)
class Job:
    """One file to stylize and where its result goes."""

    source: Path
    destination: Path


def find_inputs(spec: str) -> tuple[list[Path], Path | None]:
    """The input files of ``spec`` and the root their relative output paths start from.

    A file is itself (root ``None``); a folder is every image under it (recursive); anything
    else is a glob pattern (``photos/*.jpg``, ``**/*.png``).
    """
    path = Path(spec).expanduser()
    if path.is_file():
        return [path], None
    if path.is_dir():
        files = list_images(path)
        if not files:
            raise ImageError(f"no images in folder {path} (JPEG, PNG, WebP, TIFF or BMP)")
        return files, path
    if glob.has_magic(spec):
        files = sorted(Path(p) for p in glob.glob(str(path), recursive=True) if Path(p).is_file())
        if not files:
            raise ImageError(f"no files match {spec}")
        return files, Path(_glob_root(str(path)))
    raise ImageError(f"input not found: {spec} (give an image, a video, a folder or a glob)")


def _glob_root(pattern: str) -> str:
    """The folder part of ``pattern`` before its first wildcard."""
    parts = Path(pattern).parts
    first_magic = next(i for i, part in enumerate(parts) if glob.has_magic(part))
    return str(Path(*parts[:first_magic])) if first_magic else "."


def plan_jobs(
    sources: list[Path], root: Path | None, output: Path | None, default_dir: Path
) -> list[Job]:
    """Where each result goes.

    One input file: ``output`` when it names a file, else ``<folder>/<stem>_stylized<suffix>``.
    Several inputs: ``<output or default_dir>/<path relative to the input root>``. Images
    whose format cannot be written keep their name with a ``.png`` suffix.
    """
    if len(sources) == 1 and root is None:
        source = sources[0]
        if output is not None and output.suffix and not output.is_dir():
            return _not_over_inputs([Job(source, output)])
        folder = output if output is not None else default_dir
        return [Job(source, folder / f"{source.stem}_stylized{_writable_suffix(source)}")]
    folder = output if output is not None else default_dir
    if folder.suffix.lower() in SAVE_FORMATS and not folder.is_dir():
        raise ConfigError(
            f"output={folder} looks like a file but the input has several files; "
            "give a folder as output="
        )
    jobs = []
    for source in sources:
        relative = source.relative_to(root) if root is not None else Path(source.name)
        jobs.append(Job(source, folder / relative.with_suffix(_writable_suffix(source))))
    return _not_over_inputs(jobs)


def _not_over_inputs(jobs: list[Job]) -> list[Job]:
    """``jobs``, unless one would overwrite an input file (:class:`ConfigError`)."""
    inputs = {job.source.resolve() for job in jobs}
    for job in jobs:
        if job.destination.resolve() in inputs:
            raise ConfigError(
                f"output {job.destination} would overwrite the input {job.source}; "
                "give another output= file or folder"
            )
    return jobs


def _writable_suffix(source: Path) -> str:
    """The input's suffix, or ``.png`` for image formats we read but do not write."""
    if is_image_file(source) and source.suffix.lower() not in SAVE_FORMATS:
        return ".png"
    return source.suffix
