"""``OUT_DIR/index.html``: the batch's contact sheet, before and after side by side (the page and the
thumbnails' bytes; :mod:`engine.batch.run` writes them through its caller's files).

Self-contained: one HTML file with its style inline and the thumbnails as files in ``OUT_DIR/thumbs``
(hashed names, so no file name reaches a URL). Every text that came from a user or a file (names,
captions, reasons) is HTML-escaped: a photo called ``<script>.png`` is shown, never run.
"""

from __future__ import annotations

import hashlib
import html
import io
import os
from pathlib import Path
from typing import Any

from engine.batch.files import THUMBS

_STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:24px;background:#1e1f22;color:#ddd}
h1{font-size:20px;margin:0 0 4px}p.sum{color:#aaa;margin:0 0 18px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(440px,1fr));gap:14px}
.card{background:#2b2d31;border-radius:8px;padding:10px;border-left:4px solid #3a8f4b}
.card.bad{border-left-color:#c0453a}
.pair{display:flex;gap:6px}.pair figure{margin:0;flex:1;text-align:center}
.pair img{max-width:100%;max-height:200px;border-radius:4px;background:#111}
figcaption{font-size:11px;color:#999}.none{height:120px;display:flex;align-items:center;
justify-content:center;background:#222;color:#777;border-radius:4px}
.name{font-weight:600;word-break:break-all}.status{font-size:12px;padding:1px 6px;border-radius:9px;
background:#3a8f4b;color:#fff;margin-left:6px}.bad .status{background:#c0453a}
.cap{color:#ccc;font-style:italic}.why{color:#e8a09a}.meta{color:#888;font-size:12px}
"""


THUMB_SIDE = 320  # the longer side of a contact sheet thumbnail


def thumb_name(key: str, which: str) -> str:
    """The contact sheet's thumbnail file of ``key`` (a hash: any file name maps to a safe one)."""
    return f"{hashlib.sha1(key.encode('utf-8')).hexdigest()[:16]}-{which}.jpg"


def thumbnail_jpeg(rgb: Any) -> bytes:
    """``rgb`` (H x W x 3+ uint8) as a JPEG at most :data:`THUMB_SIDE` px on its longer side."""
    from PIL import Image

    im = Image.fromarray(rgb[..., :3])
    im.thumbnail((THUMB_SIDE, THUMB_SIDE))
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=85)
    return buf.getvalue()


def sheet_html(settings: Any, lines: list[dict], total: int) -> str:
    """The page of ``OUT_DIR/index.html`` for the report ``lines`` (one per photo done)."""
    out_dir = Path(settings.out_dir)
    ok = sum(1 for line in lines if line["status"] == "ok")
    what = settings.instruction or ("mask " + str(settings.mask) if settings.mask else "")
    cards = []
    for line in lines:
        good = line["status"] == "ok"
        figures = []
        for which, label in (("before", "before"), ("after", "after")):
            thumb = out_dir / THUMBS / thumb_name(line["key"], which)
            if thumb.is_file():
                figures.append(f'<figure><img src="{THUMBS}/{thumb.name}" alt="{label}" loading="lazy">'
                               f"<figcaption>{label}</figcaption></figure>")
            else:
                figures.append(f'<figure><div class="none">no {label}</div><figcaption>{label}</figcaption></figure>')
        if not any("<img" in f for f in figures):  # nothing could be read: one placeholder, not two
            figures = ['<figure><div class="none">no preview</div></figure>']
        name = html.escape(line["key"])
        if good and line.get("output"):
            rel = os.path.relpath(line["output"], out_dir).replace(os.sep, "/")
            from urllib.parse import quote

            name = f'<a href="{html.escape(quote(rel))}" style="color:inherit">{name}</a>'
        detail = (f'<div class="cap">{html.escape(line.get("caption") or "")}</div>' if good
                  else f'<div class="why">{html.escape(line.get("reason") or "")}</div>')
        meta = f'seed {line.get("seed")} · {line.get("seconds", 0):.1f} s'
        if line.get("engine"):
            meta += f' · {line["engine"]}'
        worker = line.get("worker") or {}
        if worker:
            meta += f' · {worker.get("host")} pid {worker.get("pid")} {worker.get("device")}'
        cards.append(f'<div class="card{"" if good else " bad"}"><div class="pair">{"".join(figures)}</div>'
                     f'<div><span class="name">{name}</span><span class="status">{html.escape(line["status"])}'
                     f'</span></div>{detail}<div class="meta">{html.escape(meta)}</div></div>')
    page = ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>Batch: {html.escape(what)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>Batch: {html.escape(what) or '-'}</h1>"
            f'<p class="sum">{ok} of {total} edited, {len(lines) - ok} not · {html.escape(str(settings.in_dir))} '
            f"→ {html.escape(str(out_dir))}</p><div class=\"grid\">{''.join(cards)}</div></body></html>\n")
    return page
