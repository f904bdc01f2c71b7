"""``brushedit doctor --vram GB``: the memory plan of an agent edit on this card (or the one named).

The ``memory`` object of ``doctor --json`` is exactly :meth:`engine.memory.MemoryPlan.to_dict`;
``memory_advice`` beside it says in words what was chosen and why, the fix when it does not fit,
and for each instructor choice whether it runs on this card.
"""

from __future__ import annotations

import argparse
import importlib.util

from cli.errors import USAGE, CliError
from cli.memory_options import add_instructor_choice


def add_memory_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("memory plan")
    g.add_argument("--vram", type=float, metavar="GB",
                   help="plan for a card with this much memory (default: the detected CUDA card)")
    g.add_argument("--painter", choices=("brushnet", "klein"), default="brushnet",
                   help="plan the paint stage for this painter (default brushnet; klein: FLUX.2 [klein] 4B, "
                        "bf16, staged, at 1024 px)")
    add_instructor_choice(g)


def bitsandbytes_installed() -> bool:
    """Whether bitsandbytes can be imported (looked up, not imported: it initialises CUDA)."""
    return importlib.util.find_spec("bitsandbytes") is not None


def memory_report(args: argparse.Namespace, gpu: dict | None) -> tuple[dict | None, dict]:
    """``(memory, memory_advice)`` for the card ``--vram`` names, else the detected one."""
    from engine.memory import plan_memory

    vram = getattr(args, "vram", None)
    if vram is not None and vram <= 0:
        raise CliError("--vram: give the card's memory in GB, e.g. --vram 12", USAGE)
    source = "--vram"
    if vram is None:
        if gpu is None:
            return None, {"summary": "no CUDA GPU found and no --vram given: pass --vram GB to see the "
                                     "memory plan for a card (e.g. brushedit doctor --vram 12)"}
        vram, source = float(gpu["vram_gb"]), gpu["name"]
    choice = dict(instructor=getattr(args, "instructor_model", "auto") or "auto",
                  instructor_precision=getattr(args, "instructor_precision", "auto") or "auto")
    # The plan for the card as the user can set it up: 4 bits counts as possible (a pip install
    # away); a missing bitsandbytes is said in the advice.
    painter = getattr(args, "painter", None) or "brushnet"
    # klein paints in bf16 at its ~1 MP training size; BrushNet in fp16 at 640 px (the defaults).
    choice.update(painter=painter, **({"paint_dtype": "bf16", "working_size": 1024} if painter == "klein" else {}))
    plan = plan_memory(vram, **choice)
    bnb = bitsandbytes_installed()
    notes = list(plan.notes)
    if plan.instructor_precision == "4bit" and not bnb:
        fallback = plan_memory(vram, four_bit_available=False, instructor=choice["instructor"],
                               painter=painter)
        notes.insert(0, "the 4-bit instructor needs bitsandbytes, not installed here: pip install bitsandbytes "
                        f"(without it: {fallback.instructor} in 16-bit, "
                        f"{'fits' if fallback.fits else 'does not fit'})")
    options = []
    for name, precision in (("qwen2-vl-7b", "16bit"), ("qwen2-vl-7b", "4bit"), ("qwen2-vl-2b", "16bit")):
        other = plan_memory(vram, **dict(choice, instructor=name, instructor_precision=precision))
        options.append({"instructor": name, "instructor_precision": precision, "fits": other.fits,
                        "peak_gb": round(other.peak_gb, 2)})
    advice = {"card": source, "painter": painter, "summary": plan.summary, "fix": plan.fix, "notes": notes,
              "after_stage": {s.stage: s.after for s in plan.stages}, "paint_offload": plan.paint_offload,
              "options": options, "estimate": "peaks are estimates: weights counted from the published "
                                              "configs, activations from the working size and batch"}
    return plan.to_dict(), advice


_AFTER = {"keep": "stays on the card", "offload": "moved to the CPU", "drop": "freed"}


def print_memory(memory: dict | None, advice: dict) -> None:
    """The plan as a short table a designer can read: what runs on this card, and what does not."""
    if memory is None:
        print(f"memory    {advice['summary']}")
        return
    verdict = "fits" if memory["fits"] else "DOES NOT FIT"
    print(f"memory plan for {memory['vram_gb']:g} GB ({advice['card']}): {verdict}, peak "
          f"{memory['peak_gb']:.1f} GB (estimated)")
    print(f"  {'stage':<8} {'model':<20} {'precision':<9} {'GB':>5} {'weights':>8} {'peak':>8}  after the stage")
    for stage in memory["stages"]:
        after = _AFTER[advice["after_stage"][stage["stage"]]]
        for i, m in enumerate(stage["models"]):
            head = (f"{stage['stage']:<8}", f"{stage['weights_gb']:>5.1f} GB", f"{stage['peak_gb']:>5.1f} GB",
                    after) if i == 0 else ("", "", "", "")
            print(f"  {head[0]:<8} {m['name']:<20} {m['precision']:<9} {m['gb']:>5.2f} {head[1]:>8} "
                  f"{head[2]:>8}  {head[3]}".rstrip())
    print(f"  {advice['summary']}")
    for note in advice["notes"]:
        print(f"  note: {note}")
    if advice["fix"]:
        print(f"  fix: {advice['fix']}")
    runs = [o for o in advice["options"] if o["fits"]]
    not_runs = [o for o in advice["options"] if not o["fits"]]

    def label(o):
        return f"{o['instructor']} {o['instructor_precision']} ({o['peak_gb']:.1f} GB)"

    print("  runs on this card:      " + (", ".join(label(o) for o in runs) or "no local instructor"))
    if not_runs:
        print("  does not run:           " + ", ".join(label(o) for o in not_runs))
