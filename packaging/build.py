"""Build the BrushEdit Studio one-folder bundle with PyInstaller.

Usage (from the project root; it re-runs itself with ``.venv/bin/python`` when started elsewhere)::

    python packaging/build.py                # dist/BrushEditStudio/BrushEditStudio
    python packaging/build.py --tarball      # + dist/BrushEditStudio-<version>-linux-x86_64.tar.gz
    python packaging/build.py --appimage     # + an AppImage when `appimagetool` is on PATH
    python packaging/build.py --dist DIR     # write into DIR instead of dist/

No model weights go into the bundle: they are downloaded to the user's models folder on first run.
CUDA libraries that PyTorch never loads (static archives, the multi-GPU solver, nvblas, profiler
libraries) are pruned after the build; everything ``libtorch_cuda.so`` links against stays.

The CUDA and libtorch libraries (3.8 GiB of the 4.55 GiB bundle) are hard-linked from the
environment rather than copied (see the spec), so a build peaks at ~0.9 GB of new disk (measured)
instead of ~4.6 GB; where the bundle's folder is on another filesystem they are copied. The bundle is as
self-contained either way: a hard link is the file, and pip replaces a package's files rather than
writing into them, so upgrading the environment later leaves a built bundle as it was.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = "BrushEditStudio"
DIST = ROOT / "dist"
BUNDLE = DIST / NAME
WORK = ROOT / "build" / "pyinstaller"
CONTENTS = "_internal"  # PyInstaller's contents directory in a one-folder bundle

# Never loaded by torch: static archives, alternative builds and profiler/tooling libraries.
PRUNE_GLOBS = (
    "**/*.a",
    "**/libcusolverMg.so*",
    "**/libnvblas.so*",
    "**/libcufftw.so*",
    "**/libnvrtc.alt.so*",
    "**/libnvrtc-builtins.alt.so*",
    "**/libnvperf_host.so*",
    "**/libnvperf_target.so*",
    "**/libpcsamplingutil.so*",
    "**/libcheckpoint.so*",
    "**/torch/include",
    "**/torch/share/cmake",
    "**/torch/test",
)


def _ensure_venv() -> None:
    """Re-exec with the project's virtual environment if we are not running in it."""
    venv_python = ROOT / ".venv" / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if venv_python.exists() and Path(sys.prefix).resolve() != (ROOT / ".venv").resolve():
        os.execv(str(venv_python), [str(venv_python), *sys.argv])


def _version() -> str:
    sys.path.insert(0, str(ROOT))
    from engine.version import __version__

    return __version__


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def prune(bundle: Path) -> int:
    """Delete files of PRUNE_GLOBS from the bundle; return the bytes saved."""
    saved = 0
    for pattern in PRUNE_GLOBS:
        for path in list(bundle.glob(pattern)):
            if path.is_dir():
                saved += folder_size(path)
                shutil.rmtree(path)
            elif path.exists():
                saved += path.stat().st_size
                path.unlink()
    return saved


def run_pyinstaller(clean: bool, dist: Path = DIST) -> None:
    try:
        import PyInstaller.__main__ as pyinstaller
    except ImportError:
        sys.exit("PyInstaller is not installed in this environment: run `bash scripts/setup.sh` first")
    args = [str(ROOT / "packaging" / f"{NAME}.spec"), "--noconfirm",
            "--distpath", str(dist), "--workpath", str(WORK), "--log-level", "WARN"]
    if clean:
        args.append("--clean")
    pyinstaller.run(args)


def link_binaries(bundle: Path, manifest: Path) -> tuple[int, int]:
    """Put the libraries the spec left out of COLLECT into the bundle: a hard link to the environment's
    file, or a copy where linking fails (another filesystem, no hard links). Returns (bytes linked,
    bytes copied). Destinations are checked to stay inside the bundle, as COLLECT checks its own."""
    linked = copied = 0
    contents = (bundle / CONTENTS).resolve()
    for dest, src in json.loads(manifest.read_text()):
        target = (contents / dest).resolve()
        if contents not in target.parents:
            raise SystemExit(f"refusing to write {dest!r} outside the bundle")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        size = Path(src).stat().st_size
        try:
            os.link(src, target)
            linked += size
        except OSError:
            shutil.copyfile(src, target)
            target.chmod(0o755)
            copied += size
    return linked, copied


def make_tarball(version: str, bundle: Path = BUNDLE, out_dir: Path = DIST) -> Path:
    """A tar.gz with the bundle, the .desktop entry, the icon and a per-user installer script."""
    out = out_dir / f"{NAME}-{version}-linux-x86_64.tar.gz"
    linux = ROOT / "packaging" / "linux"
    # The small files go first, so a listing of the archive's head shows what it is.
    with tarfile.open(out, "w:gz", compresslevel=6) as tar:
        tar.add(linux / "brushedit-studio.desktop", arcname=f"{NAME}-{version}/brushedit-studio.desktop")
        tar.add(linux / "install.sh", arcname=f"{NAME}-{version}/install.sh")
        tar.add(ROOT / "resources" / "app_icon.png", arcname=f"{NAME}-{version}/brushedit-studio.png")
        tar.add(bundle, arcname=f"{NAME}-{version}/{NAME}")
    return out


def make_appimage(version: str, bundle: Path = BUNDLE, out_dir: Path = DIST) -> Path | None:
    tool = shutil.which("appimagetool")
    if tool is None:
        print("appimage: skipped, `appimagetool` is not on PATH (it is not available from PyPI, "
              "Debian or npm here); the .tar.gz is the Linux package")
        return None
    appdir = ROOT / "build" / f"{NAME}.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    shutil.copytree(bundle, appdir / "usr" / "lib" / NAME, symlinks=True)
    shutil.copy(ROOT / "packaging" / "linux" / "brushedit-studio.desktop", appdir)
    shutil.copy(ROOT / "resources" / "app_icon.png", appdir / "brushedit-studio.png")
    apprun = appdir / "AppRun"
    apprun.write_text(f'#!/bin/sh\nexec "$(dirname "$(readlink -f "$0")")/usr/lib/{NAME}/{NAME}" "$@"\n')
    apprun.chmod(0o755)
    out = out_dir / f"{NAME}-{version}-x86_64.AppImage"
    subprocess.run([tool, str(appdir), str(out)], check=True, env=dict(os.environ, ARCH="x86_64"))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", action="store_true", help="rebuild from scratch (PyInstaller --clean)")
    parser.add_argument("--tarball", action="store_true", help="also write the Linux .tar.gz")
    parser.add_argument("--appimage", action="store_true", help="also write an AppImage (needs appimagetool)")
    parser.add_argument("--dist", type=Path, default=DIST, help="the folder to write into (default: dist/)")
    args = parser.parse_args(argv)

    version = _version()
    dist = args.dist.resolve()
    bundle = dist / NAME
    started = time.monotonic()
    manifest = WORK / "linked_binaries.json"
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.unlink(missing_ok=True)
    os.environ["BRUSHEDIT_LINK_MANIFEST"] = str(manifest)  # read by the spec
    run_pyinstaller(args.clean, dist)
    exe = bundle / (NAME + (".exe" if os.name == "nt" else ""))
    if not exe.exists():
        print(f"build failed: {exe} was not produced", file=sys.stderr)
        return 1
    if not manifest.exists():
        print(f"build failed: the spec wrote no {manifest.name}", file=sys.stderr)
        return 1
    linked, copied = link_binaries(bundle, manifest)
    saved = prune(bundle)
    size = folder_size(bundle)
    print(f"bundle: {bundle} ({size / 2**30:.2f} GiB, {linked / 2**30:.2f} GiB of it hard-linked, "
          f"{copied / 2**30:.2f} GiB copied after PyInstaller, {saved / 2**20:.0f} MiB pruned) "
          f"version {version}, built in {time.monotonic() - started:.0f} s")
    if args.tarball and os.name != "nt":
        out = make_tarball(version, bundle, dist)
        print(f"tarball: {out} ({out.stat().st_size / 2**30:.2f} GiB)")
    if args.appimage and os.name != "nt":
        out = make_appimage(version, bundle, dist)
        if out:
            print(f"appimage: {out}")
    return 0


if __name__ == "__main__":
    _ensure_venv()
    sys.exit(main())
