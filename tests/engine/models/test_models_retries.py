"""The hub client's retries reach the progress callback (the Models dialog shows them), not only stderr."""

from __future__ import annotations

import logging

from engine.models import MANIFEST, download
from models_helpers import write_fake_file


def test_hub_retries_become_progress_stages(monkeypatch, isolated_model_dirs):
    _, cache = isolated_model_dirs
    spec = MANIFEST["brushnet-x"]
    snapshot = cache / spec.cache_folder / "snapshots" / ("c" * 40)
    hub_log = logging.getLogger("huggingface_hub.utils._http")
    calls = []

    def flaky_hf_hub_download(repo_id, filename, *, revision, cache_dir, tqdm_class=None, **kw):
        if not calls:  # what huggingface_hub logs while it backs off
            hub_log.warning("HTTP Error 503 thrown while requesting GET https://huggingface.co/x")
            hub_log.warning("Retrying in 8s [Retry 2/5].")
            logging.getLogger("huggingface_hub.file_download").warning(
                "Error while downloading from %s: %s\nTrying to resume download...", "https://x", "reset")
        calls.append(filename)
        target = snapshot / filename
        write_fake_file(target, filename)
        return str(target)

    import huggingface_hub

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", flaky_hf_hub_download)
    seen = []
    download(["brushnet-x"], progress=lambda *a: seen.append(a))
    stages = [a[2] for a in seen]
    assert "brushnet-x: connection problem, retry 2/5 in 8 s" in stages
    assert "brushnet-x: connection lost, resuming the download" in stages
    assert not any(isinstance(h, logging.Handler) and type(h).__name__ == "_RetryReporter"
                   for h in logging.getLogger("huggingface_hub").handlers)  # removed afterwards
