"""``brushedit models list | download NAME... | verify [NAME...] | where [NAME] | import lama FILE``."""

from __future__ import annotations

import argparse
import json
import sys

from cli.errors import MISSING_MODELS, OK, USAGE, CliError


def add_parser(sub, common) -> None:
    p = sub.add_parser("models", help="list, download, verify and locate model weights",
                       description="What is installed, where, and what is missing.")
    msub = p.add_subparsers(dest="models_command", metavar="ACTION", required=True,
                            parser_class=type(p))

    lst = msub.add_parser("list", parents=[common], help="every model: state, size, where")
    lst.add_argument("--json", action="store_true", help="machine-readable output")
    lst.set_defaults(run=run_list)

    dl = msub.add_parser("download", parents=[common], help="download models into the HF cache")
    dl.add_argument("names", nargs="+", metavar="NAME", help="manifest names (see: models list)")
    dl.add_argument("--source", metavar="DIR",
                    help="copy from a local mirror laid out as <repo_id>/<subfolder>/ instead")
    dl.add_argument("--force", action="store_true", help="download even when installed")
    dl.add_argument("--json", action="store_true", help="machine-readable output")
    dl.set_defaults(run=run_download)

    ver = msub.add_parser("verify", parents=[common], help="check files and checksums")
    ver.add_argument("names", nargs="*", metavar="NAME", help="models to check (default: all present)")
    ver.add_argument("--json", action="store_true", help="machine-readable output")
    ver.set_defaults(run=run_verify)

    wh = msub.add_parser("where", parents=[common], help="where models are looked for and go")
    wh.add_argument("names", nargs="*", metavar="NAME")
    wh.add_argument("--json", action="store_true", help="machine-readable output")
    wh.set_defaults(run=run_where)

    imp = msub.add_parser("import", parents=[common], help="convert a published checkpoint (LaMa) to safetensors",
                          description="Convert LaMa's released best.ckpt (Lightning, read with "
                                      "weights_only) or IOPaint's big-lama.pt (TorchScript: loaded only "
                                      "here, because you asked) into the safetensors file the app loads.")
    imp.add_argument("name", choices=("lama",), metavar="NAME", help="the model: lama")
    imp.add_argument("file", metavar="FILE", help="best.ckpt, big-lama.pt or a .safetensors file")
    imp.add_argument("--output", metavar="OUT", help="where to write (default: the app's models folder)")
    imp.add_argument("--json", action="store_true", help="machine-readable output")
    imp.set_defaults(run=run_import)


def _check_names(names) -> None:
    from engine.models import MANIFEST

    unknown = [n for n in names if n not in MANIFEST]
    if unknown:
        raise CliError(f"unknown model {unknown[0]!r}; known: {', '.join(MANIFEST)}", USAGE)


def _gb(n: int) -> str:
    return f"{n / 1e9:.1f} GB" if n >= 1e8 else f"{n / 1e6:.0f} MB"


def run_list(args: argparse.Namespace) -> int:
    from engine.models import MANIFEST, all_status

    rows = []
    for status in all_status():
        spec = MANIFEST[status.name]
        rows.append({
            "name": spec.name, "kind": spec.kind, "default": spec.default, "state": status.state,
            "size_bytes": spec.size_bytes, "vram_gb": spec.vram_gb, "features": list(spec.features),
            "source": status.location.source if status.location else None,
            "path": str(status.location.path) if status.location else (str(status.where) if status.where else None),
            "file": status.file, "problem": status.problem, "repo_id": spec.repo_id,
            "revision": spec.revision, "license": spec.license,
        })
    if args.json:
        print(json.dumps({"models": rows}, indent=2))
        return OK
    width = max(len(r["name"]) for r in rows) + 1
    print(f"{'NAME':<{width}}  {'KIND':<10} {'STATE':<10} {'SIZE':>8}  {'LICENCE':<21} WHERE")
    for r in rows:
        name = r["name"] + ("*" if r["default"] else "")
        where = r["path"] if r["state"] != "missing" else "-"
        if r["state"] in ("incomplete", "corrupt"):
            where = f"{r['path']}: {r['file']}: {r['problem']}"
        elif r["source"]:
            where = f"{r['path']} ({r['source']})"
        print(f"{name:<{width}}  {r['kind']:<10} {r['state']:<10} {_gb(r['size_bytes']):>8}  "
              f"{r['license']:<21} {where}")
    # klein is a second painter a user chooses: its 16 GB are not pushed on everyone.
    missing = [r["name"] for r in rows if r["default"] and r["state"] != "installed" and r["kind"] != "klein"]
    print("* default model of its kind")
    if missing:
        print("get the defaults: brushedit models download " + " ".join(missing))
    return OK


def run_download(args: argparse.Namespace) -> int:
    from cli.progress import ProgressReporter
    from engine.models import download

    _check_names(args.names)
    progress = ProgressReporter(args.quiet, default_stage="downloading")
    try:
        folders = download(args.names, progress=progress, source=args.source, force=args.force)
    finally:
        progress.close()
    if args.json:
        print(json.dumps({"installed": {n: str(f) for n, f in zip(args.names, folders)}}, indent=2))
    else:
        for name, folder in zip(args.names, folders):
            print(f"{name}: {folder}")
    return OK


def run_verify(args: argparse.Namespace) -> int:
    from cli.progress import ProgressReporter
    from engine.models import MANIFEST, model_status, verify

    _check_names(args.names)
    names = list(args.names) or [n for n in MANIFEST if model_status(n).state != "missing"]
    progress = ProgressReporter(args.quiet)
    reports = []
    try:
        for name in names:
            reports.append(verify(name, progress=progress))
    finally:
        progress.close()
    bad = [r for r in reports if not r.ok]
    if args.json:
        print(json.dumps({"models": [{
            "name": r.name, "state": r.state, "file": r.file, "problem": r.problem,
            "path": str(r.location.path) if r.location else None,
            "checksummed": dict(r.checked), "format_checked": list(r.unchecked),
        } for r in reports]}, indent=2))
    else:
        if not reports:
            print("no models installed (see: brushedit models list)")
        for r in reports:
            print(r.describe())
    if bad:
        names = " ".join(r.name for r in bad)
        raise CliError(f"{len(bad)} model(s) not usable: {names}", MISSING_MODELS,
                       f"run: brushedit models download --force {names}")
    return OK


def run_where(args: argparse.Namespace) -> int:
    from engine.models import MANIFEST, candidates, env_var, hf_cache_dir, models_dir

    _check_names(args.names)
    info = {
        "models_dir": str(models_dir()),
        "hf_cache": str(hf_cache_dir()),
        "override": {"BRUSHEDIT_MODELS_DIR": "the app's models folder",
                     "BRUSHEDIT_MODEL_<NAME>": "one model's folder, e.g. " + env_var("sam-vit-h"),
                     "HF_HOME / HF_HUB_CACHE": "the Hugging Face cache"},
        "models": {},
    }
    for name in args.names or []:
        spec = MANIFEST[name]
        info["models"][name] = {
            "search": [{"source": s, "path": str(p), "exists": p.exists()} for s, p in candidates(name)],
            "manual_folder": str(models_dir() / name),
            "files": list(spec.files),
            "url": spec.url,
            "env": env_var(name),
        }
    if args.json:
        print(json.dumps(info, indent=2))
        return OK
    print(f"app models folder: {info['models_dir']}   (BRUSHEDIT_MODELS_DIR)")
    print(f"Hugging Face cache: {info['hf_cache']}   (HF_HOME / HF_HUB_CACHE)")
    print("one model's folder: BRUSHEDIT_MODEL_<NAME>, e.g. " + env_var("sam-vit-h"))
    for name, m in info["models"].items():
        print(f"\n{name}: {m['url']}")
        for c in m["search"]:
            print(f"  {c['source']:<8} {c['path']}{'' if c['exists'] else '   (absent)'}")
        print(f"  to place by hand, put these files in {m['manual_folder']}:")
        for f in m["files"]:
            print(f"    {f}")
    if not args.names:
        print("\nfor one model's search paths and layout: brushedit models where NAME")
    sys.stdout.flush()
    return OK


def run_import(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.models import app_folder, get_spec

    source = Path(args.file).expanduser()
    if not source.is_file():
        raise CliError(f"{source}: no such file", USAGE)
    spec = get_spec(args.name)
    output = Path(args.output).expanduser() if args.output else app_folder(spec.name) / spec.files[0]
    from engine.fill.lama import LamaLayoutError
    from engine.fill.lama_import import import_lama

    try:
        report = import_lama(source, output)
    except LamaLayoutError as exc:
        raise CliError(str(exc), USAGE, "give the release's best.ckpt or IOPaint's big-lama.pt") from None
    if args.json:
        c = report.config
        print(json.dumps({"source": str(report.source), "format": report.source_format,
                          "output": str(report.output), "kept": report.kept, "dropped": report.dropped,
                          "parameters": report.parameters,
                          "config": {"ngf": c.ngf, "n_blocks": c.n_blocks,
                                     "n_downsampling": c.n_downsampling,
                                     "global_channels": c.global_channels}}, indent=2))
    else:
        print(report.describe())
    return OK
