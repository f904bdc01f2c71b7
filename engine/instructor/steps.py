"""A whole instruction as ordered steps: split into clauses, negations become constraints.

"remove the cat and make the sky pink" -> two steps; "don't touch the sky, just remove the kite" ->
one step (removal kite) that protects "sky". A clause boundary is a sentence end, ";", a sequence word
("then", "after that", "also", "next", "finally") or "and"/"but"/"," *followed by a new clause* (an edit
verb or a negation): "the salt and pepper shakers" and "stormy and dark" have no verb after "and", so they
stay one clause. A clause that does not parse on its own is joined back to the one before it.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from engine.instructor.intent import Intent
from engine.instructor.lexicon import ADD_VERBS, CHANGE_VERBS, REMOVE_VERBS, REPLACE_VERBS, alt
from engine.instructor.oddities import looks_foreign, looks_like_injection
from engine.instructor.parser import parse_clause as parse_one_clause
from engine.instructor.parser import parse_instruction_single
from engine.instructor.patterns import I, LOOK_RE, MAX_CHARS
from engine.instructor.phrases import analyze_object, strip_determiners, tidy

MAX_STEPS = 8  # a longer chain is almost surely not an instruction; the rest is dropped with a note

# Verbs that also read as adjectives/nouns ("warm and soft", "salt and pepper"): they start a clause only
# when an object follows them.
_WEAK_VERBS = alt("warm|cool|dim|age|lower|raise|clear|set|drop|lose|hide|plant|design|draw|paint|color|"
                  "colour|shade|tint|dress|cover|coat|light|rid|strip|kill|lay|pin|seat|park|perch|"
                  "hang|stick|mount|shift|have|let|get|render|age|wipe|scrub|produce|compose|craft|"
                  "spawn|trade|switch|exchange|dye|update|edit|finally|lose")
_OBJECT_START = r"(?:the|a|an|this|that|these|those|it|them|his|her|their|its|my|our|some|all|every|any|\d+)\b"
_STRONG_VERBS = alt("remove|erase|delete|eliminate|get rid of|take out|take away|take off|add|insert|put|"
                    "place|include|replace|swap|substitute|make|turn|change|transform|convert|modify|alter|"
                    "brighten|darken|lighten|blur|sharpen|saturate|desaturate|colorize|colourise|colorise|"
                    "recolor|recolour|repaint|give|apply|move|bring|show|enhance|increase|decrease|reduce|"
                    "boost|fix|restyle|stylize|stylise|transport|relocate|let it|cut out|paint out|"
                    "crop out|keep|leave|preserve|protect|retain|don't|do not|dont|never|avoid|not|"
                    "please|also|then|just|only|now")
_VERB_START = re.compile(
    rf"^\s*(?:(?:please|also|then|just|only|now|kindly)\s+)*(?:{_STRONG_VERBS}\b|"
    rf"(?:{REMOVE_VERBS}|{ADD_VERBS}|{REPLACE_VERBS}|{CHANGE_VERBS})\s+{_OBJECT_START}|"
    rf"{_WEAK_VERBS}\s+{_OBJECT_START}|(?:the|this|that|these|those)\s+[\w' -]{{1,40}}?\s+"
    rf"(?:must|should|has\s+to|have\s+to|needs?\s+to|will|shall|can)?\s*(?:stay|stays|remain|remains|"
    rf"be\s+kept|not\s+change|not\s+be)\b)", I)
_SEQ = r"(?:and\s+then|and\s+after\s+that|and\s+afterwards|and\s+also|and\s+finally|and\s+next|then|after\s+that|afterwards|also|next(?!\s+to\b)|finally|lastly|later)"
_DETAIL = r"(?:while|whilst|without|ensuring|making\s+sure|keeping|leaving|preserving|but)"
# Boundaries inside a sentence: ", then", " then ", ", and", " and ", ", ", " but " + a new clause.
_SEQ_SPLIT_RE = re.compile(rf"\s*,?\s*\b{_SEQ}\b\s*,?\s*", I)
_AND_SPLIT_RE = re.compile(r"\s*(?:,\s*(?:and|but|or)?|\band\b|\bbut\b|\bplus\b|&)\s*", I)
_DETAIL_SPLIT_RE = re.compile(rf"\s*,?\s*(?=\b{_DETAIL}\s+(?!the\s+\w+$)(?:\w+ing\b|that\b|the\b|not\b|"
                              rf"to\s+(?:keep|leave|preserve)\b|keep|leave|don't|do\s+not|never))", I)
_SENTENCE_RE = re.compile(r"(?<=[.!?;。！？])\s+|;\s*|\n+")
_LEAD_ORDINAL_RE = re.compile(r"^(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|to\s+start|to\s+begin|step\s*\d+|"
                              r"\d+[.)]|next(?!\s+to\b)|then|finally|lastly|also|and|but|plus|after\s+that|"
                              r"afterwards)\b[\s,:.-]*", I)
_BRACKETS_RE = re.compile(r"\([^()]{0,200}\)|\[[^\[\]]{0,200}\]|\{[^{}]{0,200}\}")

# Protective clauses -> constraints (no step).
_PROTECT_VERB = (r"(?:touch|touching|change|changing|alter|altering|modify|modifying|edit|editing|affect|"
                 r"affecting|move|moving|remove|removing|delete|deleting|erase|erasing|mess\s+with|"
                 r"messing\s+with|harm|harming|damage|damaging|recolou?r|recolou?ring|paint\s+over|cut|"
                 r"cover|covering|replace|replacing|blur|blurring|include|including|touch\s+up)")
_NEG = r"(?:do\s+not|don't|dont|doesn't|never|please\s+don't|try\s+not\s+to|be\s+careful\s+not\s+to|" \
       r"careful\s+not\s+to|make\s+sure\s+(?:not\s+to|you\s+don't|to\s+not)|avoid|without|while\s+not|" \
       r"and\s+not|but\s+don't|but\s+do\s+not|not\s+to|no)"
_KEEP_TAIL = (r"(?:\s+(?:alone|as\s+(?:it|they|he|she)\s+(?:is|are|was|were)|as\s+is|unchanged|untouched|"
              r"intact|the\s+same|in\s+place|exactly\s+as\s+.*|sharp|in\s+focus|clear|unaltered|unedited|"
              r"as\s+it\s+was|the\s+way\s+(?:it|they)\s+(?:is|are|was|were)|as\s+before|preserved|"
              r"visible|too|as\s+well|at\s+all|in\s+any\s+way|no\s+matter\s+what|please|"
              r"exactly|completely|fully|entirely|[a-z]+ed|[a-z]+(?:y|ful|ous|al|ive|ic))+)$")
_PROTECT_RES = (
    re.compile(rf"^(?:but\s+|and\s+|just\s+|please\s+)?{_NEG}\s+(?:to\s+)?(?:\w+\s+)?{_PROTECT_VERB}\s+(?P<x>.+?)"
               rf"(?:\s+(?:at\s+all|in\s+any\s+way|whatsoever|please))?$", I),
    re.compile(rf"^(?:but\s+|and\s+|while\s+|whilst\s+|just\s+|please\s+|also\s+|though\s+)?(?:keep|keeping|leave|leaving|"
               rf"preserve|preserving|protect|protecting|retain|retaining|maintain|maintaining|spare|"
               rf"sparing|save)\s+(?!out\b)(?P<x>.+?)(?:{_KEEP_TAIL})?$", I),
    re.compile(r"^(?:but\s+|and\s+)?(?:not|except(?:\s+for)?|apart\s+from|other\s+than|excluding|save\s+for|"
               r"but\s+not|and\s+not|never)\s+(?P<x>(?:the|a|an|this|that|these|those|his|her|their|its|my)"
               r"\s+.+)$", I),
    re.compile(r"^(?:ensuring|ensure|making\s+sure|make\s+sure|so\s+that|such\s+that|while|whilst|"
               r"and|but)?\s*(?:that\s+)?(?P<x>(?:the|this|that|these|those|his|her|their|its|my)\s+"
               r"[\w' -]+?)\s+(?:must|should|has\s+to|have\s+to|needs?\s+to|will|shall|can|is\s+to|are\s+to)?"
               r"\s*(?:stay|stays|remain|remains|be\s+kept|be\s+left|be\s+preserved|is\s+kept|are\s+kept|"
               r"is\s+preserved|are\s+preserved|(?:does|do|must|should|will)\s+not\s+(?:change|move|be\s+"
               r"(?:changed|touched|altered|removed|edited|moved))|(?:is|are)\s+not\s+(?:changed|touched|"
               r"altered|removed|edited))\b.*$", I),
)
# A clause that only adds a detail to the previous one ("ensuring the road looks natural"): dropped.
_DETAIL_ONLY_RE = re.compile(r"^(?:ensuring|making\s+sure|so\s+that|such\s+that|while|whilst|keeping|"
                             r"in\s+a\s+way|with\s+care|carefully|seamlessly|naturally|realistically)\b", I)
_PRONOUN_RE = re.compile(r"\b(?:it|them)\b", I)


@dataclass(frozen=True)
class Reading:
    """An instruction read as a chain: the steps in order, the objects it protects, and notes."""

    steps: tuple[Intent, ...]
    protected: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default=())
    texts: tuple[str, ...] = field(default=())  # each step's own clause ("add a dog to the table"), to plan it again

    @property
    def understood(self) -> bool:
        return bool(self.steps) and all(s.confident for s in self.steps)


def normalize(text) -> str:
    """NFKC, quotes straightened, emoji and control characters as spaces, cut to ``MAX_CHARS``."""
    t = unicodedata.normalize("NFKC", "" if text is None else str(text)[:MAX_CHARS * 2])[:MAX_CHARS]
    out = []
    for ch in t:
        cat = unicodedata.category(ch)
        out.append(" " if cat in ("So", "Sk", "Cs", "Co", "Cn") or not ch.isprintable() else ch)
    t = "".join(out)
    t = (t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"'))
    return re.sub(r"[ \t]+", " ", t).strip()


_EVERYTHING_BUT_RE = re.compile(r"\b(everything|anything|all)\s+but\s+(?=(?:the|a|an|his|her|their|its|my|this|"
                                r"that|these|those)\b)", I)


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` in order (brackets dropped), split at sentence and clause boundaries."""
    t = _BRACKETS_RE.sub(" ", normalize(text))
    t = _EVERYTHING_BUT_RE.sub(r"\1 except ", t)  # "everything but the woman" = "everything except the woman"
    out: list[str] = []
    for sentence in _SENTENCE_RE.split(t):
        for part in _SEQ_SPLIT_RE.split(sentence):
            for piece in _split_before_details(part):
                out.extend(_split_and(piece))
    cleaned = []
    for c in out:
        c = tidy(c)
        for _ in range(3):
            c = tidy(_LEAD_ORDINAL_RE.sub("", c))
        if c and re.search(r"\w", c):
            cleaned.append(c)
    return cleaned


_EXCEPT_SPLIT_RE = re.compile(r"\s*,?\s+(?=(?:except(?:\s+for)?|apart\s+from|other\s+than|save\s+for)\s+"
                              r"(?:the|a|an|his|her|their|its|my|this|that|these|those)\b)", I)


def _split_before_details(text: str) -> list[str]:
    parts = [q for p in _DETAIL_SPLIT_RE.split(text) if p and p.strip()
             for q in _EXCEPT_SPLIT_RE.split(p) if q and q.strip()]
    return parts or [text]


def _split_and(text: str) -> list[str]:
    """Split at "and", "but" or "," when a new clause (an edit verb, a negation) follows."""
    pieces: list[str] = []
    start = 0
    for m in _AND_SPLIT_RE.finditer(text):
        if m.start() <= start:
            continue
        after = text[m.end():]
        if _VERB_START.match(after) or _is_protective(after) or _starts_negation(m.group(0), after):
            pieces.append(text[start:m.start()])
            start = m.end()
    pieces.append(text[start:])
    return [p for p in pieces if p.strip()]


def _starts_negation(sep: str, after: str) -> bool:
    return bool(re.match(r"^(?:not|except|apart\s+from|other\s+than|excluding|save\s+for)\s+", after, I)
                and ("," in sep or "but" in sep.lower()))


def _is_protective(clause: str) -> bool:
    return protected_object(clause) is not None


def protected_object(clause: str) -> str | None:
    """The object a protective clause keeps ("don't touch the sky" -> "sky"), else None."""
    c = tidy(clause)
    if re.match(r"^(?:leave|leaving)\s+out\b|^keep\s+(?:on|going)\b", c, I):
        return None
    for rx in _PROTECT_RES:
        m = rx.match(c)
        if m:
            x = re.sub(r"\s+(?:alone|as\s+is|unchanged|untouched|intact|the\s+same|in\s+place)$", "",
                       m.group("x"), flags=I)
            obj = analyze_object(x)
            target = obj.target or strip_determiners(x)
            target = re.sub(r"^(?:anything|everything|any\s+of)\s+(?:on|in|of)?\s*", "", target or "", flags=I)
            target = strip_determiners(target)
            if target and len(target.split()) <= 6 and not re.match(r"^(?:it|them|this|that|mind|going|on)$",
                                                                   target, I):
                return target
    return None


def read_instruction(text, parse_clause=None) -> Reading:
    """Read ``text`` as ordered steps plus protected objects.

    ``parse_clause`` reads one clause (default: the offline parser's single-clause rules); a step
    that does not parse confidently on its own is joined to the step before it and read again.
    """
    parse_clause = parse_clause or parse_one_clause
    raw = "" if text is None else str(text)
    notes: list[str] = []
    if looks_like_injection(raw):
        notes.append("the text reads like instructions to the model, not an edit: nothing planned")
        return Reading((Intent("local", None, caption="", confident=False, instruction=raw),),
                       (), tuple(notes))
    protected: list[str] = []
    kept: list[str] = []
    for c in clauses(raw):
        obj = protected_object(c)
        if obj is not None:
            if obj.lower() not in (p.lower() for p in protected):
                protected.append(obj)
            continue
        if _DETAIL_ONLY_RE.match(c) and kept:
            continue
        kept.append(c)
    kept = [piece for c in kept for piece in _split_elliptical(c, parse_clause)]
    kept = [piece for c in kept for piece in _split_additions(c, parse_clause)]
    steps: list[tuple[str, Intent]] = []
    for c in kept:
        intent = parse_clause(c)
        if intent is None:
            continue
        if steps and not intent.confident and _NP_START_RE.match(c):
            # "remove the cat and then the dog": the bare object takes the previous step's verb.
            verb = _VERB_OF_RE.match(steps[-1][0])
            again = parse_clause(f"{verb.group(0)} {c}") if verb else None
            if again is not None and again.confident:
                steps.append((f"{verb.group(0)} {c}", again))
                continue
        if steps and not intent.confident:
            joined = steps[-1][0] + " and " + c
            again = parse_clause(joined)
            if again is not None and again.confident:
                steps[-1] = (joined, again)
                continue
        if steps and intent.category == "global" and _PRONOUN_RE.search(c) and not LOOK_RE.search(c):
            prev = steps[-1][1]
            if prev.target and prev.category in ("local", "addition", "removal"):
                sub = parse_clause(_PRONOUN_RE.sub(f"the {prev.target}", c, count=1))
                if sub is not None and sub.confident and sub.category == "local":
                    intent = sub
        steps.append((c, intent))
    steps = [_everything_except(c, s, protected) for c, s in steps]
    if len(steps) > MAX_STEPS:
        notes.append(f"only the first {MAX_STEPS} steps are kept")
        steps = steps[:MAX_STEPS]
    if looks_foreign(raw):
        notes.append("did not understand: the instruction does not read as English, so the plan is a guess")
        steps = [(c, s.with_(confident=False)) for c, s in steps]
    if not steps:
        if protected:
            notes.append("nothing to edit: the instruction only says what to keep")
        else:
            notes.append("did not understand the instruction")
    elif any(not s.confident for _, s in steps):
        notes.append("did not understand part of the instruction: check the plan")
    intents = tuple(s.with_(instruction=raw, protected=tuple(protected)) for _, s in steps)
    return Reading(intents, tuple(protected), tuple(notes), tuple(c for c, _ in steps))


_NP_START_RE = re.compile(r"^(?:the|a|an|his|her|their|its|my|this|that|these|those)\s+\S", I)
_VERB_OF_RE = re.compile(rf"^(?:{REMOVE_VERBS}|{ADD_VERBS}|{REPLACE_VERBS}|{CHANGE_VERBS})\b", I)
_GAPPED_RE = re.compile(r"\s+and\s+(?=(?:the|his|her|their|its|my)\s+\S)", I)
_GAPPING_VERB_RE = re.compile(r"^(?:make|turn|paint|repaint|colou?r|recolou?r|dye|change|set|tint)\b", I)


def _split_elliptical(clause: str, parse_clause) -> list[str]:
    """ "make the sky blue and the grass green" -> "make the sky blue", "make the grass green": the
    second object borrows the verb, when both halves read as confident edits of their own."""
    verb = _GAPPING_VERB_RE.match(clause)
    if not verb:
        return [clause]
    for m in _GAPPED_RE.finditer(clause):
        left, right = clause[:m.start()], f"{verb.group(0)} {clause[m.end():]}"
        a, b = parse_clause(left), parse_clause(right)
        if a is not None and b is not None and a.confident and b.confident and a.target and b.target and \
                a.category == b.category == "local" and a.replacement and b.replacement:
            return [left] + _split_elliptical(right, parse_clause)
    return [clause]


_INDEF_START = (r"(?:a|an|another|some|one|two|three|four|five|six|seven|eight|nine|ten|several|a\s+few|"
                 r"a\s+couple\s+of|a\s+pair\s+of|\d+)\s+")
_TWO_ADDITIONS_RE = re.compile(rf"^(?P<v>(?:{ADD_VERBS}))\s+(?P<a>{_INDEF_START}.+?)\s+(?:and|&|plus)\s+"
                               rf"(?P<b>{_INDEF_START}.+)$", I)
_ANCHOR_TAIL_RE = re.compile(r"\s+(?:on|onto|to|in|into|inside|at|near|next\s+to|beside|by|above|below|"
                             r"under|over|behind|in\s+front\s+of|on\s+top\s+of|around|along|among)\s+.+$", I)


def _split_additions(clause: str, parse_clause) -> list[str]:
    """ "add a lamp and a plant to the desk" -> "add a lamp to the desk", "add a plant to the desk":
    two objects that each have their own article are two additions (both go where the last one
    goes). "add salt and pepper shakers", "add a black and white dog" have no article after "and": one."""
    m = _TWO_ADDITIONS_RE.match(clause)
    if not m:
        return [clause]
    verb, a, b = m.group("v"), m.group("a"), m.group("b")
    tail = _ANCHOR_TAIL_RE.search(b)
    left = f"{verb} {a}" if _ANCHOR_TAIL_RE.search(a) or not tail else f"{verb} {a}{tail.group(0)}"
    right = f"{verb} {b}"
    one, two = parse_clause(left), parse_clause(right)
    if one is None or two is None or not (one.confident and two.confident) or \
            one.category != "addition" or two.category != "addition" or not one.target or not two.target:
        return [clause]
    return [left] + _split_additions(right, parse_clause)


_EVERYTHING_RE = re.compile(r"^(?:everything|all|anything|the\s+rest)(?:\s+else)?$", I)
_REMOVE_EVERYTHING_RE = re.compile(rf"^(?:{REMOVE_VERBS})\s+(?:everything|all|anything|the\s+rest)(?:\s+else)?$", I)


def _everything_except(clause: str, intent: Intent, protected: list) -> tuple[str, Intent]:
    """ "remove everything except the dog": a background edit around what is kept (the kept object is
    the subject, and still protected), not a removal of an object called "everything"."""
    everything = intent.category == "removal" and _EVERYTHING_RE.match(intent.target or "")
    everything = everything or _REMOVE_EVERYTHING_RE.match(tidy(clause))  # "remove all": no target to read
    if not protected or not everything:
        return clause, intent
    return clause, Intent("background", None, replacement="plain white background",
                          caption="a clean plain white background", subject=protected[0])


def parse_steps(text) -> list[Intent]:
    """The offline reading of a whole instruction as ordered steps.

    Parameters
    ----------
    text : str
        What the user typed, e.g. "erase the logo and make the mug white".

    Returns
    -------
    list of Intent
        One per edit, in order ("A and B", "A, then B", "A; B", "first A, after that B" -> two).
        Negated or protective clauses ("don't touch the sky", "keep the bicycle", "not the pear") give
        no step; each step lists them in ``Intent.protected``. Never raises; may be empty when the text
        only says what to keep.
    """
    try:
        return list(read_instruction(text).steps)
    except Exception:  # noqa: BLE001 -- a parser bug must never fail an edit
        return [parse_instruction_single(text)]


def parse_instruction_or_none(text: str) -> Intent | None:
    """:func:`parse_instruction`, or ``None`` where it cannot read ``text`` (the CLI and batch then take
    the category and caption from the user's options and mask)."""
    try:
        return parse_instruction(text)
    except ValueError:
        return None


def parse_instruction(text: str) -> Intent:
    """Parse an editing instruction into an :class:`Intent`, offline and without a model.

    The first step of :func:`engine.instructor.parse_steps` (the first one understood, if any).

    Parameters
    ----------
    text : str
        What the user typed ("remove the red car on the left", "can you put a hat on the dog?",
        "swap the cat for a tiger", "sky -> sunset", "make it look like winter").

    Returns
    -------
    Intent
        Never raises: unknown or empty text gives ``category="local"`` with the whole phrase as
        target and ``confident=False``.
    """
    raw = "" if text is None else str(text)
    try:
        reading = read_instruction(raw)
        for step in reading.steps:
            if step.confident:
                return step
        if reading.steps:
            return reading.steps[0]
        if reading.protected:
            return Intent("local", None, caption="", confident=False, instruction=raw,
                          protected=reading.protected)
    except Exception:  # noqa: BLE001 -- a parser bug must never fail an edit
        pass
    return parse_instruction_single(raw)
