"""packaging/build.py's own steps on a small stand-in bundle: fast, so they run everywhere.

The real bundle (test_bundle.py) is built in CI only; what is checked here is what that build does
with the files — the tarball's order and modes, and the libraries linked in after PyInstaller.
"""

import importlib.util
import json
import os
import tarfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("brushedit_build", ROOT / "packaging" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


@pytest.fixture
def stand_in(tmp_path):
    """A one-folder bundle in miniature: the executable, a library, a hard link to it and the
    top-level symlink PyInstaller makes into nvidia/."""
    bundle = tmp_path / "dist" / build.NAME
    lib = bundle / "_internal" / "nvidia" / "cu13" / "lib"
    lib.mkdir(parents=True)
    exe = bundle / build.NAME
    exe.write_bytes(b"\x7fELF stand-in")
    exe.chmod(0o755)
    (lib / "libcudart.so.13").write_bytes(b"cudart" * 1000)
    os.link(lib / "libcudart.so.13", lib / "libcudart.so.13.0")
    (bundle / "_internal" / "libcudart.so.13").symlink_to("nvidia/cu13/lib/libcudart.so.13")
    return bundle


def test_tarball_puts_the_menu_entry_installer_and_icon_first_and_extracts_whole(stand_in, tmp_path):
    out = build.make_tarball("9.9.9", stand_in, tmp_path / "dist")
    assert out.name == f"{build.NAME}-9.9.9-linux-x86_64.tar.gz"
    with tarfile.open(out, "r:gz") as tar:
        members = tar.getmembers()
        top = f"{build.NAME}-9.9.9/"
        assert [m.name for m in members[:4]] == [top + "brushedit-studio.desktop", top + "install.sh",
                                                 top + "brushedit-studio.png", top + build.NAME]
        assert members[1].mode & 0o111, "install.sh must be executable"
        assert all(not Path(m.name).is_absolute() and ".." not in Path(m.name).parts for m in members)
        # The members were checked above; Python before 3.11.4 has no extraction filters.
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extractall(tmp_path / "out", **safe)
    got = tmp_path / "out" / f"{build.NAME}-9.9.9" / build.NAME
    assert os.access(got / build.NAME, os.X_OK)
    lib = got / "_internal" / "nvidia" / "cu13" / "lib"
    # A hard link inside the bundle travels as a link member and comes back as the same bytes.
    assert (lib / "libcudart.so.13.0").read_bytes() == (lib / "libcudart.so.13").read_bytes() == b"cudart" * 1000
    assert (got / "_internal" / "libcudart.so.13").resolve() == (lib / "libcudart.so.13").resolve()


def _manifest(tmp_path, entries):
    path = tmp_path / "linked_binaries.json"
    path.write_text(json.dumps(entries))
    return path


def test_link_binaries_links_what_the_spec_left_out(tmp_path):
    src = tmp_path / "venv" / "libtorch_cuda.so"
    src.parent.mkdir()
    src.write_bytes(b"t" * 4096)
    bundle = tmp_path / "bundle"
    (bundle / "_internal").mkdir(parents=True)
    (bundle / "_internal" / "libtorch_cuda.so").symlink_to("torch/lib/libtorch_cuda.so")
    linked, copied = build.link_binaries(bundle, _manifest(tmp_path, [["torch/lib/libtorch_cuda.so", str(src)]]))
    inside = bundle / "_internal" / "torch" / "lib" / "libtorch_cuda.so"
    assert (linked, copied) == (4096, 0)
    assert os.path.samefile(inside, src)
    assert (bundle / "_internal" / "libtorch_cuda.so").read_bytes() == b"t" * 4096


def test_link_binaries_copies_where_links_fail(tmp_path, monkeypatch):
    src = tmp_path / "libnccl.so.2"
    src.write_bytes(b"n" * 100)

    def no_links(*_a):
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(build.os, "link", no_links)
    bundle = tmp_path / "bundle"
    linked, copied = build.link_binaries(bundle, _manifest(tmp_path, [["nvidia/nccl/lib/libnccl.so.2", str(src)]]))
    inside = bundle / "_internal" / "nvidia" / "nccl" / "lib" / "libnccl.so.2"
    assert (linked, copied) == (0, 100)
    assert inside.read_bytes() == src.read_bytes() and not os.path.samefile(inside, src)
    assert os.access(inside, os.X_OK)


def test_link_binaries_refuses_a_destination_outside_the_bundle(tmp_path):
    src = tmp_path / "lib.so"
    src.write_bytes(b"x")
    with pytest.raises(SystemExit, match="outside the bundle"):
        build.link_binaries(tmp_path / "bundle", _manifest(tmp_path, [["../../escaped.so", str(src)]]))
    assert not (tmp_path / "escaped.so").exists()
