"""Noun-phrase helpers of the offline parser: object, spatial qualifier, anchor, captions."""

from __future__ import annotations

import re
from dataclasses import dataclass

from engine.instructor.lexicon import (COLORS, DETERMINERS, IMAGE_WORDS, LOCATION_PREPS, SCENE_WORDS,
                                       SPATIAL_ADJ, SPATIAL_WORDS)

I = re.IGNORECASE
_DET_RE = re.compile(rf"^(?:{DETERMINERS}|\d+)\b\s*", I)
_IMAGE_REF_RE = re.compile(
    rf"\s*\b(?:in|from|of|on|within|inside|out of|off|across|throughout|to)\s+"
    rf"(?:the|this|that|my|our|your|its|these|those)?\s*(?:entire\s+|whole\s+|current\s+|given\s+|"
    rf"original\s+)?(?:{IMAGE_WORDS})s?\b(?!\s+of\b)", I)
_LEAD_IMAGE_REF_RE = re.compile(rf"^(?:in|on|for)\s+(?:the|this|that|my)\s+(?:{IMAGE_WORDS}),?\s*", I)
_SPATIAL_PHRASE_RE = re.compile(
    rf"\s*\b(?:on|at|to|in|towards?|from|near)\s+(?:the\s+)?(?:very\s+|far\s+)?(?P<sp>{SPATIAL_WORDS})"
    rf"(?:\s+(?:side|corner|part|edge|half|end|area|portion|region|hand side))?"
    rf"(?:\s+of\s+(?:the\s+)?(?:{IMAGE_WORDS}))?\b(?!\s*-?\s*of\b)(?!\s+\w+\s+of\b)", I)
_SPATIAL_ADJ_RE = re.compile(rf"^(?P<sp>{SPATIAL_ADJ})\s+(?=\S)", I)
_TAIL_SPATIAL_RE = re.compile(r"\s*,?\s*(?P<sp>leftmost|rightmost|left-most|right-most|topmost|bottommost)$", I)
_PREP_RE = re.compile(rf"\s+(?P<prep>{LOCATION_PREPS})\b", I)
_FILLER_TAIL_RE = re.compile(
    r"\s*\b(?:completely|entirely|altogether|fully|totally|here|there|visible|shown|present|"
    r"that you see|you see|in it|in there|please|as well|too|for good|for me|right away|now|"
    r"from view|from sight|if possible|if you can|at all)$", I)
_SCENE_RE = re.compile(rf"^(?:{SCENE_WORDS})$", I)
_SCENE_HEAD_RE = re.compile(rf"(?:^|\s)(?:{SCENE_WORDS})$", I)
_IMAGE_RE = re.compile(rf"^(?:(?:the|this|that|my|our|your|its|entire|whole)\s+)*(?:{IMAGE_WORDS})$", I)
_WHOLE_RE = re.compile(r"^(?:it|this|that|everything|all|all of it|all of this|the whole thing|"
                       r"the entire thing|things|stuff|the world|the lighting|the light|the weather|"
                       r"the season|the time|the time of day|the style|the mood|the atmosphere|"
                       r"the colors|the colours|the tone|the look|the vibe|the feel|the overall look|"
                       r"(?:the\s+)?(?:[\w-]+\s+)?(?:day|daytime|daylight|day\s+time|night|nighttime|"
                       r"morning|evening|afternoon|weather|season|time\s+of\s+day|hour|lighting|sunlight|"
                       r"light|mood|atmosphere|ambience|ambiance))$", I)
_COLOR_WORDS_RE = re.compile(rf"^(?:(?:{COLORS})(?:\s+and\s+|\s*,\s*|-|\s+)?)+$", I)
_ADJ_LIKE_RE = re.compile(
    r"^(?:[\w-]+(?:en|ic|ed|y|ful|ish|ous|al|ive|less|ble|ary|ese|ian|ist)|glass|metal|plastic|"
    r"gold|silver|ice|stone|paper|wood|marble|steel|iron|bronze|crystal|leather|fur|furry|"
    r"rubber|concrete|brick|lego|neon|pixel|old|new|big|small|tall|short|long|huge|tiny|"
    r"clean|dirty|happy|sad|angry|young|old|dry|wet|fat|thin|smooth|rough|shiny|matte)$", I)
_ONE_RE = re.compile(r"^(?:(?:the|a|an)\s+)?(?P<adj>.+?)\s+(?:one|ones|version|variant)$", I)
_MASS_NOUNS = frozenset("snow rain fog mist smoke steam fire water grass sand hair fur light sunlight "
                        "moonlight lightning clouds sky dust glitter confetti foliage ice mud lava "
                        "graffiti text writing makeup jewelry jewellery furniture bread cheese "
                        "wine coffee tea milk juice".split())
_STRIP_CHARS = " \t\n\r.,;:!?\"'`()[]{}*_~"
# A participle after the head noun starts a description, not the name: "dog lying", "bird perched".
_PARTICIPLE_RE = re.compile(
    r"\s+(?:lying|laying|sitting|standing|running|walking|perched|parked|seated|placed|sleeping|resting|"
    r"floating|flying|swimming|hanging|holding|wearing|playing|eating|drinking|looking|leaning|located|"
    r"situated|positioned|stacked|lined|shown|grazing|riding|jumping|waiting|smiling|crossing|driving|"
    r"sailing|moored|crouching|kneeling|posing|climbing|carrying|reading|talking|laughing|staring|"
    r"facing|lounging|perching|hovering|crawling|dancing|sprawled|curled|balanced|propped|displayed|"
    r"mounted|attached|visible|seen|pictured|depicted|captured|shown|featured|nestled|tucked|"
    r"scattered|strewn|piled|heaped|left|lit|covered|filled|dressed|painted|written|printed)\b.*$", I)
# "the picture of the bus", "an image of a cat": the wrapper names the object's depiction.
_WRAPPER_RE = re.compile(r"^(?:(?:the|a|an|this|that)\s+)?(?:picture|image|photo|photograph|pic|shot|snapshot|"
                         r"depiction|rendering|view)\s+of\s+(?=\S)", I)


@dataclass(frozen=True)
class ObjectPhrase:
    """An object phrase split up: ``quantity target relation anchor`` + spatial qualifier."""

    target: str | None
    counted: str | None  # target with its article or number, for captions ("three birds")
    spatial: str | None = None
    relation: str | None = None
    anchor: str | None = None


def tidy(text: str) -> str:
    """Collapse whitespace and strip punctuation at both ends."""
    return re.sub(r"\s+", " ", text or "").strip(_STRIP_CHARS)


def strip_determiners(text: str) -> str:
    t = tidy(text)
    for _ in range(6):
        n = _DET_RE.sub("", t, count=1)
        if n == t:
            break
        t = n
    return t


def strip_image_refs(text: str) -> str:
    """Drop "in the image", "from this photo", ... (they name the canvas, not an object)."""
    t = _LEAD_IMAGE_REF_RE.sub("", tidy(text))
    return tidy(_IMAGE_REF_RE.sub("", t))


def normalize_spatial(word: str) -> str:
    w = word.lower().replace("-", " ").replace("centre", "center")
    w = re.sub(r"\s+", " ", w)
    for old, new in (("leftmost", "left"), ("left most", "left"), ("rightmost", "right"),
                     ("right most", "right"), ("topmost", "top"), ("bottommost", "bottom"),
                     ("upper", "top"), ("lower", "bottom"), ("middle", "center"),
                     ("central", "center"), ("foreground", "front"), ("background", "back"),
                     ("biggest", "largest"), ("tiniest", "smallest"), ("nearest", "front"),
                     ("closest", "front"), ("farthest", "back"), ("furthest", "back"),
                     ("frontmost", "front"), ("front most", "front"), ("far ", ""),
                     (" side", ""), (" hand", ""), ("left handed", "left")):
        w = w.replace(old, new)
    return w.strip() or word


def is_image_ref(text: str | None) -> bool:
    t = tidy(text or "")
    return bool(_IMAGE_RE.match(t) or _WHOLE_RE.match(t))


def is_scene(text: str | None) -> bool:
    """Is this a place/scenery noun phrase ("the snowy mountain range", "a beach")?"""
    t = strip_determiners(text or "")
    if not t or len(t.split()) > 8:
        return False
    if len(t.split()) <= 5 and (_SCENE_RE.match(t) or _SCENE_HEAD_RE.search(t)):
        return True
    m = _PREP_RE.search(t)
    if m and m.start() > 0:
        head = strip_determiners(t[:m.start()])
        return bool(head) and len(head.split()) <= 4 and bool(_SCENE_RE.match(head) or _SCENE_HEAD_RE.search(head))
    return False


def analyze_object(phrase: str) -> ObjectPhrase:
    """Split "the red car on the left" -> target "red car", spatial "left"; "a hat on the dog" ->
    target "hat", relation "on", anchor "dog"."""
    p = _WRAPPER_RE.sub("", strip_image_refs(phrase))
    spatial = None
    m = _SPATIAL_PHRASE_RE.search(p)
    if m:
        spatial = normalize_spatial(m.group("sp"))
        p = tidy(p[:m.start()] + " " + p[m.end():])
    m = _TAIL_SPATIAL_RE.search(p)
    if m:
        spatial = spatial or normalize_spatial(m.group("sp"))
        p = tidy(p[:m.start()])
    for _ in range(3):
        n = _FILLER_TAIL_RE.sub("", p)
        if n == p:
            break
        p = tidy(n)
    relation = anchor = None
    m = _PREP_RE.search(p)
    head = p
    if m and m.start() > 0:
        head, rest = p[:m.start()], p[m.start():]
        relation = re.sub(r"\s+", " ", m.group("prep").lower())
        anchor_text = rest[m.end() - m.start():]
        sub = _PREP_RE.search(" " + anchor_text)
        if sub and sub.start() > 0:
            anchor_text = (" " + anchor_text)[:sub.start()]
        anchor = strip_determiners(anchor_text) or None
        if relation in ("to the left of", "on the left of", "left of"):
            relation = "left of"
        elif relation in ("to the right of", "on the right of", "right of"):
            relation = "right of"
        if anchor and re.match(r"^(?:center|centre|middle)\s+of\s+", anchor, I):
            spatial = spatial or "center"
            anchor = strip_determiners(re.sub(r"^\w+\s+of\s+", "", anchor)) or None
        elif anchor and re.match(r"^(?:back|rear)\s+of\s+", anchor, I):
            relation, anchor = "behind", strip_determiners(re.sub(r"^\w+\s+of\s+", "", anchor)) or None
        elif anchor and re.match(r"^(?:top|front)\s+of\s+", anchor, I):
            relation = "on" if anchor.lower().startswith("top") else "in front of"
            anchor = strip_determiners(re.sub(r"^\w+\s+of\s+", "", anchor)) or None
    m = _PARTICIPLE_RE.search(head)
    if m and strip_determiners(head[:m.start()]):
        head = head[:m.start()]
    counted = tidy(head)
    target = strip_determiners(head)
    m = _SPATIAL_ADJ_RE.match(target)
    if m and len(target.split()) > 1:
        spatial = spatial or normalize_spatial(m.group("sp"))
        target = tidy(target[m.end():])
        counted = re.sub(rf"\b{re.escape(m.group('sp'))}\s+", "", counted, count=1, flags=I)
    if anchor and is_image_ref(anchor):
        relation = anchor = None
    return ObjectPhrase(target=target or None, counted=counted or target or None, spatial=spatial,
                        relation=relation, anchor=anchor)


def with_article(phrase: str) -> str:
    """ "red car" -> "a red car"; plurals, numbers and phrases with an article stay as they are."""
    p = tidy(phrase)
    if not p:
        return p
    first = p.split()[0].lower()
    if p.split()[-1].lower() in _MASS_NOUNS:
        return p
    if _DET_RE.match(p) or first.endswith("s") and not first.endswith("ss") and len(p.split()) == 1:
        return p
    last = p.split()[-1].lower()
    if last.endswith("s") and not last.endswith("ss") and not last.endswith("us"):
        return p
    return ("an " if first[0] in "aeiou" else "a ") + p


def local_caption(target: str | None, replacement: str | None) -> str:
    """The prompt for a local edit: "a red car" for (car, red); "a tiger" for (cat, a tiger)."""
    t = tidy(target or "")
    r = tidy(replacement or "")
    if not r:
        return with_article(t) if t else ""
    m = _ONE_RE.match(r)
    if m and t:
        return with_article(f"{m.group('adj')} {t}")
    bare = strip_determiners(r)
    words = bare.split()
    if t and words and (_COLOR_WORDS_RE.match(bare) or
                        (len(words) <= 2 and all(_ADJ_LIKE_RE.match(w) for w in words)
                         and not bare.lower().endswith(t.lower()))):
        return with_article(f"{bare} {t}")
    return r


def looks_like_adjectives(text: str) -> bool:
    bare = strip_determiners(text)
    words = bare.split()
    if not words:
        return False
    if _COLOR_WORDS_RE.match(bare) or (len(words) <= 2 and all(_ADJ_LIKE_RE.match(w) for w in words)):
        return True
    # "bright and airy", "stormy, dark and wet": adjectives joined by "and" / commas.
    parts = [w for w in re.split(r"\s*(?:,|\band\b|\bor\b|\s)\s*", bare) if w]
    return ("and" in words or "," in bare) and 2 <= len(parts) <= 4 and all(
        _ADJ_LIKE_RE.match(w) or _COLOR_WORDS_RE.match(w) for w in parts)


def removal_caption(anchor: str | None, spatial: str | None = None) -> str:
    """What fills a removed object's hole: the surface it stood on, else empty background."""
    a = tidy(anchor or "")
    if a and not is_image_ref(a) and len(a.split()) <= 4:
        return f"empty {strip_determiners(a)}, clean background"
    return "empty background"


def global_caption(look: str) -> str:
    """The prompt for a whole-image edit: the look applied to the same scene."""
    lk = tidy(look)
    lk = re.sub(r"^(?:look|looks|appear|seem|feel)\s+(?:like\s+|as\s+if\s+|more\s+)?", "", lk, flags=I)
    lk = re.sub(r"^(?:like|as|into|in|to)\s+", "", lk, flags=I)
    lk = re.sub(r"^(?:as\s+(?:if|though)\s+)?(?:it\s+(?:were|was|is)|they\s+were)\s+", "", lk, flags=I)
    lk = re.sub(r"^(?:(?:the|this|an?)\s+)?(?:same\s+)?(?:image|photo|picture|scene)\s+(?:in|as|with)\s+", "", lk, flags=I)
    if not lk:
        return "the same scene"
    if re.match(r"^(?:the\s+)?(?:night|nighttime|night\s+time|sunset|sunrise|dawn|dusk|twilight|noon|midnight|"
                r"golden\s+hour|blue\s+hour)$", lk, I):
        return f"the same scene at {strip_determiners(lk)}"
    if re.match(r"^(?:a|an)\s", lk, I):
        return f"the same scene as {lk}"
    if re.match(r"^(?:more|less|very|much|brighter|darker|warmer|cooler|lighter|sharper|softer|dimmer|colder|"
                r"hotter|sunnier|happier|gloomier|moodier|cleaner|older|newer)\b", lk, I):
        return f"the same scene, {lk}"
    return f"the same scene in {lk}"


def background_caption(new: str) -> str:
    n = tidy(new)
    if not n:
        return "a new background"
    if re.search(r"\b(?:background|backdrop|scene|scenery|landscape|setting|environment|view|"
                 r"surroundings)\b", n, I):
        return n
    return f"{n} background"
