"""What an instruction asks for: :class:`Intent`, the parser's and every backend's answer."""

from __future__ import annotations

from dataclasses import dataclass, replace

from engine.api import CATEGORIES


@dataclass(frozen=True)
class Intent:
    """One edit, as understood from the instruction.

    Attributes
    ----------
    category : str
        One of ``engine.api.CATEGORIES``: addition, removal, local, global, background.
    target : str or None
        The object noun phrase to edit ("red car"); for addition the object to add; None for
        global and background edits.
    replacement : str or None
        What the target becomes ("a tiger", "red"), or the new background / look, if said.
    caption : str
        The inpainting prompt: for removal what fills the hole (never the removed object). Of the
        whole picture after the edit when ``caption_of == "image"`` (a vision-language model's
        answer), else of what the edited region shows (the offline parser's phrases).
    region_caption : str
        What the edited region shows after the edit (for a removal: the background that remains
        there), when ``caption`` is of the whole image; the planner paints a crop with it.
    caption_of : {"region", "image"}
        What ``caption`` describes.
    confident : bool
        False when the text matched no known phrasing (the parser then guessed ``local``).
    spatial : str or None
        A spatial qualifier that picks among several detections ("left", "right", "top",
        "bottom", "center", "front", "back", "largest", "smallest", or two of them: "top left").
    subject : str or None
        For background edits: the subject to keep, if named ("the hedgehog" in "make the hedgehog
        in Italy"); otherwise the planner finds the main subject itself.
    anchor : str or None
        For additions: the object the new one goes on / next to ("dog" in "put a hat on the dog").
    relation : str or None
        How the added object relates to ``anchor``: "on", "next to", "left of", "above", ...
    box : tuple of 4 floats or None
        A region ``(x0, y0, x1, y1)`` in image pixels proposed by a model backend (additions).
    instruction : str
        The text this was parsed from.
    protected : tuple of str
        Objects the whole instruction says to keep ("don't touch the sky" -> ("sky",)): the planner
        takes them out of this step's mask when it can find them.
    """

    category: str
    target: str | None
    replacement: str | None = None
    caption: str = ""
    confident: bool = True
    spatial: str | None = None
    subject: str | None = None
    anchor: str | None = None
    relation: str | None = None
    box: tuple[float, float, float, float] | None = None
    instruction: str = ""
    protected: tuple[str, ...] = ()
    region_caption: str = ""
    caption_of: str = "region"

    def __post_init__(self) -> None:
        if self.category not in CATEGORIES:
            raise ValueError(f"unknown edit category {self.category!r}; expected one of {CATEGORIES}")

    def with_(self, **changes) -> "Intent":
        """A copy with some fields changed."""
        return replace(self, **changes)
