"""The offline instruction parser: a typed instruction -> :class:`Intent`, with no model.

Rules over regular expressions, tried in order: removal, replacement, addition, background,
change (local or whole-image), then softer phrasings ("the cat should be red", "a hat on the
dog", "Van Gogh style"). Unknown text becomes a low-confidence ``local`` edit of the whole phrase.
It never raises: it is the fallback of every model backend.

This module reads one clause (:func:`parse_clause`) or the whole text as one edit
(:func:`parse_instruction_single`); :mod:`engine.instructor.steps` splits an instruction into clauses
with it and gives ``parse_instruction`` / ``parse_steps`` (the package exports them).
"""

from __future__ import annotations

import re
import unicodedata

from engine.instructor.intent import Intent
from engine.instructor.lexicon import CHANGE_VERBS, COLORS, IMAGE_WORDS
from engine.instructor.patterns import (
    I, MAX_CHARS, LEAD_RE, TAIL_RE, WISH_RE, BG, DEF, INDEF, ARROW_RE, REMOVE_RE,
    REMOVE_PARTICLE_RE, MAKE_GONE_RE, NO_MORE_RE, SUBJ_GONE_RE, REPLACE_RE, REPLACE_ALONE_RE,
    COLOR_OF_RE, POSS_COLOR_RE, PAINT_RE, CHANGE_RE, MAKE_ADJ_RE, PLACE_SUBJECT_RE, GIVE_RE,
    WEAR_RE, THERE_BE_RE, ADD_RE, SUBJ_BE_RE, WHAT_IF_RE, STYLE_RE, GLOBAL_VERB_RE,
    GLOBAL_VERB_LOOK, LOOK_RE, ENSURE_BE_RE, OPT_FOR_RE, COAT_RE, COLORISH_RE, COLOR_SUFFIX_RE,
    ART_STYLE_RE, TIME_WEATHER_RE, WEATHER_NOUN_RE, AS_IF_TIME_RE, INSTEAD_RE, PLACE_SUBJ_BE_RE)
from engine.instructor.phrases import (analyze_object, background_caption, global_caption,
                                       is_image_ref, is_scene, local_caption, looks_like_adjectives,
                                       removal_caption, strip_determiners, strip_image_refs, tidy,
                                       with_article)
from engine.instructor.whole_image import refine


def _clean(text: str) -> str:
    t = unicodedata.normalize("NFKC", str(text))[:MAX_CHARS]
    t = "".join(ch if ch.isprintable() else " " for ch in t)
    t = (t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"')
         .replace("\u201d", '"').replace("-->", "->").replace("–>", "->"))
    t = re.sub(r"\s+", " ", t).strip(" \t\"'`*_~.,;:!?¡¿。！？、")
    for _ in range(6):
        n = LEAD_RE.sub("", t, count=1).strip(" ,.;:!?")
        n = TAIL_RE.sub("", n).strip(" ,.;:!?")
        if n == t:
            break
        t = n
    return t


def _sentences(text: str) -> list[str]:
    parts = [p for p in re.split(r"(?<=[.!?;。！？])\s+|\n+", text) if p.strip()]
    return parts or [text]


def parse_clause(clause: str) -> Intent | None:
    """One clause (no "and"/"then" splitting) -> :class:`Intent`, or None for empty text."""
    return _parse_one(_clean(clause))


def parse_instruction_single(text: str) -> Intent:
    """The whole text read as one edit (the parser before steps; the fallback of :func:`parse_instruction`)."""
    raw = "" if text is None else str(text)
    try:
        best = None
        for sentence in _sentences(raw[:MAX_CHARS]):
            intent = _parse_one(_clean(sentence))
            if intent is not None and intent.confident:
                return intent.with_(instruction=raw)
            best = best or intent
        if best is not None:
            return best.with_(instruction=raw)
    except Exception:  # noqa: BLE001 -- a parser bug must never fail an edit
        pass
    phrase = tidy(_safe_clean(raw)) or None
    return Intent("local", phrase, caption=phrase or "", confident=False, instruction=raw)


def _safe_clean(raw: str) -> str:
    try:
        return _clean(raw)
    except Exception:  # noqa: BLE001
        return raw[:200]


def _parse_one(s: str) -> Intent | None:
    if not s:
        return None
    wish = False
    m = WISH_RE.match(s)
    if m:
        wish, s = True, _clean(s[m.end():])
    for rule in (_rule_arrow, _rule_instead, refine, _rule_replace, _rule_remove, _rule_add, _rule_background,
                 _rule_place_subject, _rule_color_of, _rule_color_words, _rule_wear, _rule_change,
                 _rule_be,
                 _rule_global):
        intent = rule(s)
        if intent is not None:
            return intent
    intent = _rule_time(s)
    if intent is not None:
        return intent
    if wish or re.match(rf"^{INDEF}\s", s, I):
        obj = analyze_object(s)
        if obj.target:
            return _addition(obj)
    return _unknown(s)


# --- intents ---------------------------------------------------------------------------------------


def _unknown(s: str) -> Intent:
    obj = analyze_object(s)
    target = tidy(s) or None
    return Intent("local", target, caption=target or "", confident=False, spatial=obj.spatial)


def _addition(obj, confident: bool = True) -> Intent:
    caption = with_article(obj.counted or obj.target or "")
    return Intent("addition", obj.target, replacement=None, caption=caption, confident=confident,
                  spatial=obj.spatial, anchor=obj.anchor, relation=obj.relation)


def _removal(x: str, rest: str = "") -> Intent:
    phrase = tidy(x + " " + rest)
    if re.match(rf"^(?:{DEF}\s+)?(?:whole\s+|entire\s+)?{BG}$", phrase, I):
        return Intent("background", None, replacement="plain white background",
                      caption="a clean plain white background")
    obj = analyze_object(phrase)
    if not obj.target:
        return Intent("local", tidy(x) or None, caption=tidy(x), confident=False)
    anchor = obj.anchor if obj.relation in ("on", "from", "off", "off of", "atop", "upon", "in",
                                            "inside", "at", "over", "out of", "away from") else None
    caption = removal_caption(anchor, obj.spatial)
    return Intent("removal", obj.target, caption=caption, spatial=obj.spatial, anchor=obj.anchor,
                  relation=obj.relation)


def _local(x: str, y: str | None) -> Intent:
    obj = analyze_object(x)
    y = tidy(strip_image_refs(y)) if y else None
    if y:
        y = re.sub(r"^(?:be|become|look\s+like|resemble)\s+", "", y, flags=I)
    if not obj.target:
        return _unknown(x)
    return Intent("local", obj.target, replacement=y or None, caption=local_caption(obj.target, y),
                  spatial=obj.spatial)


def _global(look: str) -> Intent:
    look = tidy(strip_image_refs(look))
    return Intent("global", None, replacement=look or None, caption=global_caption(look))


def _background(new: str, subject: str | None = None) -> Intent:
    new = tidy(new)
    new = re.sub(r"^(?:(?:to|into|be|become|look\s+like|show(?:case)?|showcasing|showing|simulate|"
                 r"simulating|convey|conveying|depict|depicting|reflect|reflecting|portray|portraying|"
                 r"feature|featuring|display|displaying|resemble|like|an?\s+image\s+of|"
                 r"something\s+like)\s+)+", "", new, flags=I)
    new = tidy(strip_image_refs(new))
    subj = strip_determiners(subject) if subject else None
    return Intent("background", None, replacement=new or None, caption=background_caption(new),
                  subject=subj or None)


_SCENE_NOUN_RE = re.compile(r"^(?:the\s+|this\s+)?(?:whole\s+|entire\s+)?(?:scene|location|place|locale|venue|"
                            r"surroundings|scenery)$", I)


def _classify_change(x: str, y: str) -> Intent:
    """ "change X to Y": whole image -> global, scenery -> background, an object -> local."""
    xs = tidy(strip_image_refs(x)) if not is_image_ref(x) else tidy(x)
    if _SCENE_NOUN_RE.match(xs) and not TIME_WEATHER_RE.search(y) and not ART_STYLE_RE.search(y) and (
            is_scene(y) or re.match(r"^(?:the\s+)?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*$", tidy(y))):
        return _background(y)  # "change the scene to a beach", "change the location to Paris"
    if is_image_ref(x) or is_image_ref(xs) or not xs:
        return _global(y)
    if is_scene(xs) and ART_STYLE_RE.search(y) and (not looks_like_adjectives(y) or re.match(r"^(?:an?|the)\s", tidy(y), I)):
        return _global(y)  # a style on a named scene: "make the city look like a Van Gogh painting"
    if re.search(rf"\b{BG}\b", xs, I):
        subj = re.search(r"\b(?:behind|of|around)\s+(?P<s>.+)$", xs, I)
        return _background(y, subj.group("s") if subj else None)
    if is_scene(xs) and not looks_like_adjectives(y):
        return _background(y)
    return _local(x, y)


# --- rules -------------------------------------------------------------------------------------------


def _rule_arrow(s: str) -> Intent | None:
    m = ARROW_RE.match(s)
    if not m:
        return None
    x, y = tidy(m.group("x")), tidy(m.group("y"))
    if not y:
        return None
    if not x or is_image_ref(x):
        return _global(y)
    if re.match(r"^(?:nothing|none|empty|blank|gone|remove|removed|delete|deleted|erase|erased|"
                r"background|nil|null|void|-|x)$", y, I):
        return _removal(x)
    return _classify_change(x, y)


def _rule_remove(s: str) -> Intent | None:
    for rx in (REMOVE_RE, REMOVE_PARTICLE_RE, MAKE_GONE_RE):
        m = rx.match(s)
        if m:
            rest = m.groupdict().get("rest") or ""
            if (m.groupdict().get("p") or "").lower() == "off" and re.match(r"^\s+(?!(?:and|then|but)\b)\w", rest, I):
                rest = " off" + rest  # "wipe the graffiti off the wall": the wall is where it is, not the target
            return _removal(m.group("x"), rest)
    m = NO_MORE_RE.match(s)
    if m and re.match(r"^(?:ensure|make\s+sure|see\s+to|there|i\s|we\s|without|leave|no\s)", s, I) and (
            re.match(r"^(?:without|leave|no\s)", s, I) or re.search(r"\b(?:no|not|don't|dont)\b", s, I)):
        return _removal(m.group("x"))
    m = SUBJ_GONE_RE.match(s)
    if m and not re.match(r"^(?:it|this)$", m.group("x"), I):
        return _removal(m.group("x"), m.group("rest"))
    return None


def _rule_replace(s: str) -> Intent | None:
    m = REPLACE_RE.match(s)
    if m:
        x, y = m.group("x"), m.group("y")
        if re.match(r"^substitut", m.group("v"), I) and re.search(r"\s+for\s+", s, I):
            x, y = y, x  # "substitute Y for X"
        if re.match(r"^(?:it|this)$", tidy(x), I) and re.search(rf"\b{BG}\b", y, I):
            return _background(y)
        return _classify_change(x, y)
    m = REPLACE_ALONE_RE.match(s)
    if m:
        x = m.group("x")
        if re.search(rf"\b{BG}\b", x, I):
            return _background("", None)
        obj = analyze_object(x)
        if obj.target:
            return Intent("local", obj.target, caption=f"a different {obj.target}", spatial=obj.spatial)
    return None


def _rule_add(s: str) -> Intent | None:
    m = ADD_RE.match(s)
    if not m:
        return None
    verb, x = m.group("v").lower(), m.group("x")
    # "put the cat on a beach": moving a named subject to a place is a new background.
    if verb in ("put", "place", "set", "bring", "position", "station", "seat", "park", "lay", "drop",
                "perch") and re.match(rf"^{DEF}\s", x, I):
        return None
    if re.match(rf"^(?:an?\s+)?(?:new\s+)?(?:(?!(?:in|on|at|to|of|the)\b)[\w'-]+\s+){{0,3}}{BG}\b", x, I) or re.search(rf"\b(?:as|for)\s+(?:the\s+)?{BG}\b", x, I):
        return _background(re.sub(rf"\b(?:as|for|to|in)?\s*(?:the\s+)?{BG}\b.*$", "", x, flags=I) or x)
    obj = analyze_object(x)
    if not obj.target:
        return None
    if is_image_ref(obj.target) or re.match(rf"^(?:an?\s+)?(?:{IMAGE_WORDS})\b", tidy(x), I) or (
            re.search(r"\b(?:version|rendition|variant|copy|edit)$", obj.target, I)):
        # "generate an image that captures ... cyberpunk": a whole-image look.
        return _global(re.sub(rf"^(?:an?\s+)?(?:{IMAGE_WORDS})\s+(?:that|which|of|with)?\s*", "", tidy(x), flags=I))
    # "add three clouds" counts objects; "add clouds", "add a storm" are weather.
    counted = re.match(r"^(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+|an?)\s+(?:[\w-]+\s+)?clouds?$",
                       tidy(x), I)
    if WEATHER_NOUN_RE.match(obj.target) and not counted and (
            not obj.anchor or is_image_ref(obj.anchor) or is_scene(obj.anchor)):
        return _global(x)  # "add some fog", "add heavy rain": the weather of the whole picture
    if re.match(r"^(?:more|some\s+more)\s+(?:light|contrast|saturation|brightness|warmth|color|colour)", x, I):
        return _global(x)
    if re.search(r"\b(?:effect|filter|tone|tint|style|look|vibe|mood|atmosphere|lighting|grain|vignette)$",
                 obj.target, I) and (not obj.anchor or is_image_ref(obj.anchor)):
        return _global(x)
    return _addition(obj)


def _rule_background(s: str) -> Intent | None:
    if not re.search(rf"\b{BG}\b", s, I) or re.match(r"^(?:blur|blurr?ed)\b", s, I) and False:
        return None
    s2 = strip_image_refs(s)
    if re.match(r"^(?:blur|soften|defocus)\b", s2, I):
        return _background("blurred, out of focus background", _subject_of(s2))
    m = re.search(rf"\b{BG}\b(?:\s+(?:behind|of|around)\s+(?P<s>.+?))?\s+(?:to|into|with|as|for|be|is|into|:|"
                  rf"showing|show|showcase|showcasing|depicting|depict|look\s+like|like|portraying|portray|"
                  rf"reflecting|reflect|simulate|simulating|convey|conveying|becomes?|featuring|so\s+it\s+"
                  rf"(?:is|shows|looks\s+like))\s+(?P<y>.+)$", s2, I)
    if m:
        return _background(m.group("y"), m.group("s"))
    m = re.search(rf"(?:^|\s)(?P<y>(?:(?:a|an)\s+)?(?:[\w'-]+\s+){{1,4}}?){BG}\b", s2, I)
    if m:
        y = re.sub(r"^.*\b(?:to|into|with|as|of|reflect|show|depict|showcase|convey|give\s+\w+|"
                   r"add|use|put|place|make|want|need)\s+", "", m.group("y"), flags=I)
        y = strip_determiners(y) if re.match(r"^(?:the|this|that|its|their)\b", y, I) else y
        if tidy(y) and not re.match(r"^(?:change|replace|modify|alter|edit|new|different|swap|"
                                    r"switch|the|this)$", tidy(y), I):
            return _background(y, _subject_of(s2))
    m = re.match(rf"^(?:make|turn|set|have)\s+(?:the\s+)?{BG}\s+(?P<y>.+)$", s2, I)
    if m:
        return _background(m.group("y"), _subject_of(s2))
    return _background("", _subject_of(s2)).with_(confident=False)


def _subject_of(s: str) -> str | None:
    m = re.search(rf"\b(?:behind|around)\s+(?P<s>{DEF}\s+[\w\s'-]+?)(?:\s+(?:to|into|with|as)\b|$)", s, I)
    return m.group("s") if m else None


def _rule_place_subject(s: str) -> Intent | None:
    m = PLACE_SUBJECT_RE.match(s) or PLACE_SUBJ_BE_RE.match(s)
    if not m:
        return None
    x, y = m.group("x"), m.group("y")
    y_clean = tidy(y)
    proper = bool(re.match(r"^(?:the\s+)?[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*$", y_clean))
    if is_scene(y_clean) or proper or re.match(r"^(?:a|an)\s", y_clean, I) and is_scene(y_clean):
        return _background(y_clean, x if not re.match(r"^(?:him|her|them|it)$", x, I) else None)
    return None


def _rule_color_of(s: str) -> Intent | None:
    for rx in (COLOR_OF_RE, POSS_COLOR_RE):
        m = rx.match(s)
        if m:
            x, y = m.group("x"), tidy(m.group("y"))
            if is_image_ref(x):
                return _global(y)
            obj = analyze_object(x)
            if obj.target:
                return Intent("local", obj.target, replacement=y, caption=local_caption(obj.target, y)
                              if looks_like_adjectives(y) else with_article(f"{y} {obj.target}"),
                              spatial=obj.spatial)
    m = PAINT_RE.match(s)
    if m and looks_like_adjectives(m.group("y")):
        return _classify_change(m.group("x"), m.group("y"))
    return None


def _rule_color_words(s: str) -> Intent | None:
    """Colour phrasings: "ensure the sheep is red", "opt for a red shade for the cake",
    "coat the train with a red color", "make the bear pink in color"."""
    m = ENSURE_BE_RE.match(s)
    if m and not re.match(r"^(?:there|it|this)\b", m.group("x"), I):
        return _classify_change(m.group("x"), m.group("y"))
    m = OPT_FOR_RE.match(s)
    if m and COLORISH_RE.search(m.group("y")):
        return _color_local(m.group("x"), m.group("y"))
    m = COAT_RE.match(s)
    if m and COLORISH_RE.search(m.group("y")):
        return _color_local(m.group("x"), m.group("y"))
    if COLOR_SUFFIX_RE.search(s):
        return _rule_change(COLOR_SUFFIX_RE.sub("", s))
    return None


def _color_local(x: str, y: str) -> Intent | None:
    obj = analyze_object(x)
    if not obj.target or is_image_ref(obj.target):
        return _global(y) if obj.target else None
    colour = re.search(rf"\b(?:{COLORS})(?:\s+and\s+(?:{COLORS}))?\b", y, I)
    y2 = colour.group(0) if colour else tidy(y)
    return Intent("local", obj.target, replacement=y2, caption=local_caption(obj.target, y2),
                  spatial=obj.spatial)


def _rule_change(s: str) -> Intent | None:
    m = CHANGE_RE.match(s)
    if m:
        x, y = m.group("x"), m.group("y")
        if m.group("v").lower() in ("give", "apply") and not is_image_ref(x):
            return None
        return _classify_change(x, y)
    m = MAKE_ADJ_RE.match(s)
    if m:
        return _classify_change(m.group("x"), m.group("y"))
    m = re.match(rf"^(?:{CHANGE_VERBS})\s+(?P<x>.+)$", s, I)
    if m and LOOK_RE.search(m.group("x")) and (is_image_ref(m.group("x")) or STYLE_RE.search(s)):
        return _global(m.group("x"))
    return None


def _rule_wear(s: str) -> Intent | None:
    m = GIVE_RE.match(s)
    if m:
        x, a = m.group("x"), m.group("a")
        if re.search(r"\b(?:look|feel|vibe|style|tone|mood|makeover|finish|color|colour|texture|"
                     r"effect|filter|glow|tint|shade|hue|coat|paint\s*job|paint|pattern|sheen|"
                     r"appearance|aesthetic|atmosphere|essence|quality)\b", x, I):
            if is_image_ref(a) or (is_scene(a) and ART_STYLE_RE.search(x)):
                return _global(x)
            return _local(a, x)
        obj = analyze_object(x)
        if obj.target:
            return _addition(obj).with_(anchor=strip_determiners(a), relation="on")
    m = WEAR_RE.match(s)
    if m and not is_image_ref(m.group("a")):
        obj = analyze_object(m.group("x") or m.group("x2"))
        if obj.target:
            return _addition(obj).with_(anchor=strip_determiners(m.group("a")), relation="on")
    m = THERE_BE_RE.match(s)
    if m:
        x = m.group("x")
        if re.match(r"^(?:no|not)\b", x, I):
            return _removal(re.sub(r"^(?:no|not)\s+(?:any\s+)?", "", x, flags=I))
        obj = analyze_object(x)
        if obj.target:
            return _addition(obj)
    return None


def _rule_be(s: str) -> Intent | None:
    for rx in (SUBJ_BE_RE, WHAT_IF_RE):
        m = rx.match(s)
        if m:
            return _classify_change(m.group("x"), m.group("y"))
    return None


def _rule_global(s: str) -> Intent | None:
    m = GLOBAL_VERB_RE.match(s)
    if m:
        rest = tidy(m.group("x"))
        verb = s.split()[0].lower()
        look = GLOBAL_VERB_LOOK.get(verb, verb)
        if not rest or is_image_ref(rest):
            return _global(look)
        if LOOK_RE.search(rest):
            return _global(s)
        return _local(rest, s.split()[0] + "ed")
    if LOOK_RE.search(s) or STYLE_RE.search(s):
        m = re.search(r"\b(?:in|into|to|with|like|as|of)\s+(?:the\s+|a\s+|an\s+)?(?P<y>(?:[\w'-]+\s+){0,4}?"
                      r"(?:style|painting|sketch|drawing|art|look|aesthetic|filter|render)s?\b.*)$", s, I)
        look = m.group("y") if m else s
        return _global(look)
    return None


def _rule_instead(s: str) -> Intent | None:
    """ "put the tent on a snowy mountain instead of the meadow": the scene it replaces says background."""
    m = INSTEAD_RE.search(s)
    if not m or not is_scene(tidy(m.group("z"))):
        return None
    rest = tidy(s[:m.start()])
    intent = _rule_place_subject(rest)
    if intent is not None:
        return intent
    place = re.search(r"\b(?:in|on|at|into|onto|to|inside|within|under|in\s+front\s+of)\s+(?P<y>(?:a|an|the)\s+.+)$",
                      rest, I)
    if place:
        subject = re.match(rf"^\w+\s+(?P<x>{DEF}\s+[\w' -]+?)\s+(?:\w+\s+)?(?:in|on|at|into|onto|to|inside|within|under)\b",
                           rest, I)
        return _background(place.group("y"), subject.group("x") if subject else None)
    return None


def _rule_time(s: str) -> Intent | None:
    """Time of day and weather worded around the picture: "as if photographed at dusk", "at sunset"."""
    m = AS_IF_TIME_RE.match(s)
    if not m or not re.match(r"^(?:make|show|depict|render|have|set|picture|imagine|put|as|at|during|in|on|"
                             r"under|it|this|photographed|shot|taken|captured|filmed|pictured|seen|viewed|"
                             r"lit)\b", s, I):
        return None
    return _global(s)
