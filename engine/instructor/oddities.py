"""Text that is not an edit instruction: other languages, and text aimed at the model itself.

Both make the plan low-confidence instead of a confident wrong edit; an injection attempt never
reaches a caption (the prompt the painter gets).
"""

from __future__ import annotations

import re

_INJECTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\s+(?:all\s+|any\s+|the\s+|your\s+|my\s+)*(?:previous|prior|"
    r"above|earlier|preceding|system|original|safety)?\s*(?:instructions?|prompts?|rules|messages?|directions|"
    r"guidelines|context)\b|\bsystem\s+prompt\b|\byou\s+are\s+now\b|\bact\s+as\s+(?:a|an|the)\b|"
    r"\bjailbreak\b|\bdeveloper\s+mode\b|<\|im_(?:start|end)\|>|\bnew\s+instructions?\s*:|"
    r"\b(?:print|output|reveal|repeat|respond\s+with|reply\s+with|return|say)\s+(?:only\s+)?"
    r"(?:the\s+)?(?:word|text|string|phrase|json|following|system|password|api\s+key|token|secret)s?\b",
    re.I)
_LATIN_LETTER_RE = re.compile(r"[A-Za-z]")
# Frequent function words of languages the parser does not read; English instructions rarely hold them.
_FOREIGN_WORDS = frozenset(
    "der das dem des ein eine einen und ist nicht mit auf zu von bitte entferne entfernen füge ändere "
    "mache mach lösche les un une des du et est avec sur pour dans supprime supprimer enlève enlever "
    "ajoute ajouter los las una con por para del quita quitar elimina agrega añade cambia haz "
    "gli della di che per nel rimuovi togli aggiungi cambia fai het een op met voor verwijder "
    "och att är på för med ta bort".split())
# ("van", "la", "die", "el" are left out: "Van Gogh style", "La Jolla", "Die Hard poster".)
_ENGLISH_HINTS = frozenset(
    "the a an to of in on and with from make remove add change turn replace it this that is be".split())


def looks_like_injection(text: str) -> bool:
    """Does the text address the model ("ignore previous instructions", "print the system prompt")?"""
    return bool(_INJECTION_RE.search(str(text or "")[:4000]))


def looks_foreign(text: str) -> bool:
    """Is most of the text in another script, or made of another language's function words?"""
    t = str(text or "")[:2000]
    letters = [ch for ch in t if ch.isalpha()]
    if not letters:
        return False
    latin = sum(1 for ch in letters if _LATIN_LETTER_RE.match(ch) or "\u00c0" <= ch <= "\u024f")
    if latin < 0.6 * len(letters):
        return True
    words = re.findall(r"[^\W\d_]+", t.lower())
    foreign = sum(1 for w in words if w in _FOREIGN_WORDS)
    english = sum(1 for w in words if w in _ENGLISH_HINTS)
    return foreign >= 1 and foreign > english
