"""Writing ``brushedit edit``'s results: numbered flattened images, or one .ora with one layer per result.

Shared by the single edit (:mod:`cli.edit`) and its chain of steps (:mod:`cli.edit_chain`); the layers
come from :mod:`engine.result_layers` (what each records) and go through
:mod:`desktop.document.result_files` (how they land), as the batch's do.
"""

from __future__ import annotations

from pathlib import Path

from cli.errors import RUNTIME, CliError


def provenance_of(request, result, candidate, index: int, count: int, source_name: str, instructor=None):
    """The :class:`~desktop.document.Provenance` of one result (fields from :mod:`engine.result_layers`
    over :mod:`engine.provenance`, the builder the editor and the server use too)."""
    from desktop.document import Provenance
    from engine.result_layers import candidate_fields

    return Provenance(**candidate_fields(request, result, candidate, index, count, source_name, instructor))


def write_outputs(out: Path, doc, rgba, request, result, source_name: str, instructor=None) -> list[Path]:
    """Write the results: numbered flattened images, or one .ora with one layer per result."""
    from desktop.document.result_files import write_layers
    from engine.result_layers import result_layers

    if not result.candidates:
        raise CliError("the engine returned no result", RUNTIME)
    return write_layers(out, doc, rgba, result_layers(request, result, rgba, source_name, instructor), request.mask)
