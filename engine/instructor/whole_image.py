"""Rules the offline parser tries before its object rules: whole-image edits worded as making,
restyling or lighting the picture, and a few removal and colour wordings.

Most misses of the older rules were whole-image edits (style, weather, time of day) read as an
addition ("craft a moody composition in teal and orange"), a local edit ("make it feel like a foggy
morning") or a background ("make this look like it was shot on Kodak Portra"). The rules here look
at what the sentence makes or changes: a picture-sized result (a composition, a version, a look),
the picture itself (it, this, the photo), or the time of day and season. They were written against
``tests/engine/instructor/data/designer_dev.jsonl`` (our own wordings), never the held-out files.
"""

from __future__ import annotations

import re

from engine.instructor.intent import Intent
from engine.instructor.lexicon import COLORS, IMAGE_WORDS, TIME_WEATHER, alt
from engine.instructor.patterns import ART_STYLE_RE, LOOK_RE, TIME_WEATHER_RE, WEATHER_NOUN_RE
from engine.instructor.phrases import (analyze_object, global_caption, is_image_ref, is_scene, local_caption,
                                       strip_image_refs, tidy)

I = re.IGNORECASE

# Nouns that name a whole picture or its look: what "create a ..." makes when it restyles the photo.
WHOLE_NOUNS = alt(
    "composition|compositions|version|rendition|interpretation|reinterpretation|narrative|atmosphere|"
    "ambiance|ambience|mood|vibe|look|feel|feeling|aesthetic|aesthetics|edit|take|remake|render|rendering|"
    "artwork|piece|image|picture|photo|illustration|poster|still|scene|setting|world|landscape|"
    "makeover|treatment|effect|style|palette|tableau|vision|portrait")
# Looks added to the whole picture ("add a dreamy bokeh", "add film grain").
LOOK_NOUNS = alt(
    "bokeh|glow|grain|film grain|haze|vignette|palette|tone|tones|tint|toning|grade|grading|colour grade|"
    "color grade|look|feel|vibe|mood|atmosphere|ambiance|ambience|lighting|light|light leaks?|"
    "filter|effect|style|aesthetic|texture|textures|brushstrokes|brush strokes|sheen|cast|contrast|"
    "saturation|warmth|exposure|sparkle|shimmer|colors|colours")
CREATE_VERBS = alt("create|craft|produce|generate|design|compose|fashion|build|forge|conjure|shape|"
                   "develop|construct|make|render|give me|deliver|whip up|cook up|dream up|put together")
_ANCHOR_RE = re.compile(r"\s(?:on|onto|next\s+to|beside|above|below|under|behind|near|inside|into|in\s+front\s+of|"
                        r"at\s+the|to\s+the\s+(?:left|right)|on\s+top\s+of)\s+(?:the|a|an|his|her|its|their|my)\s+"
                        r"(?!(?:" + IMAGE_WORDS + r")\b)", I)
_HEAD_CUT_RE = re.compile(r"\s+(?:with|in|using|of|out\s+of|through|from|that|which|for|featuring|inspired\s+by|"
                          r"based\s+on|to|by|via|as)\s+.*$", I)
_CREATE_RE = re.compile(rf"^(?:{CREATE_VERBS})\s+(?P<y>.+)$", I)

_PICTURE = (rf"(?:it|this|that|everything|(?:the\s+|this\s+)?(?:whole\s+|entire\s+)?(?:{IMAGE_WORDS}|thing|"
            rf"frame|shot))")
_MAKE_IT_RE = re.compile(rf"^(?:make|render|get|have|let|keep|turn|set|leave)\s+{_PICTURE}\s+(?P<y>.+)$", I)
_LOOK_VERB_RE = re.compile(r"^(?:look|looks|feel|feels|seem|seems|appear|appears)\b(?:\s+(?:like|as\s+(?:if|though)|"
                           r"more|less|a\s+bit|slightly))?\s*(?P<rest>.*)$", I)
_MOOD_ADJ_RE = re.compile(
    r"\b(?:darker|brighter|lighter|warmer|cooler|colder|softer|sharper|moodier|gloomier|sunnier|dimmer|"
    r"dreamier|grittier|grainier|hazier|foggier|snowier|rainier|stormier|(?:more|less)\s+(?:dramatic|"
    r"moody|cinematic|vibrant|saturated|muted|contrasty|atmospheric|vintage|cheerful|gloomy|romantic|"
    r"mysterious|colorful|colourful|natural|realistic|surreal|dreamy|dark|bright|warm|cold|cool))\b", I)
_NOT_GLOBAL_VERBS = re.compile(r"^(?:replace|swap|substitute|switch|exchange|remove|delete|erase|add|put|place|"
                               r"insert|fill|cover|crop|cut|move)\b", I)
_PICTURE_MEANS_RE = re.compile(rf"^(?P<v>[\w-]+)(?:\s+(?:up|down|out|over))?\s+{_PICTURE}\s+(?:with|through|using|"
                               rf"via|in|into|by|under)\s+(?P<y>.+)$", I)
_DAY = rf"(?:day|daytime|daylight|a\s+sunny\s+day|{TIME_WEATHER})"
_SEASON_SWAP_RE = re.compile(rf"^(?:turn|change|switch|convert|transform|make|shift|move)\s+(?:the\s+|this\s+)?"
                             rf"(?:{_DAY})(?:\s+(?:scene|shot|photo|image|picture))?\s+(?:into|to|in\s*to|for)\s+"
                             rf"(?:the\s+|a\s+|an\s+)?(?P<y>{_DAY}.*)$", I)
_EVERYWHERE_RE = re.compile(r"\s+(?:everywhere|all\s+over(?:\s+the\s+\w+)?|throughout(?:\s+the\s+\w+)?|"
                            r"across\s+the\s+(?:whole\s+|entire\s+)?\w+|over\s+everything)$", I)
_ADD_LOOK_RE = re.compile(r"^(?:add|apply|put|throw\s+in|sprinkle|introduce|overlay|layer)\s+(?P<x>.+)$", I)
_PAINT_COLOUR_RE = re.compile(
    rf"^(?:paint|repaint|colou?r|recolou?r|dye|tint|spray(?:\s+paint)?|stain|wash)\s+(?P<x>.+?)\s+(?:in\s+|with\s+|"
    rf"to\s+)?(?P<y>(?:an?\s+)?(?:(?:soft|deep|bright|light|dark|pale|rich|vivid|warm|cool|hot|baby|sky|royal|"
    rf"forest|neon|pastel|matte|glossy|metallic|dusty|muted|burnt|electric|candy|powder)\s+)*(?:{COLORS})"
    rf"(?:\s+(?:and\s+)?(?:{COLORS}))*(?:\s+(?:colou?r|shade|hue|tone))?)$", I)
_RID_RE = re.compile(r"^rid\s+(?P<a>(?!(?:the\s+)?(?:" + IMAGE_WORDS + r")\b).+?)\s+of\s+(?P<x>.+)$", I)
_OUT_OF_FRAME_RE = re.compile(rf"^(?:get|take|move|keep|pull)\s+(?P<x>.+?)\s+out\s+of\s+(?:the\s+|this\s+)?"
                              rf"(?:{IMAGE_WORDS}|frame|shot)$", I)


def _global(look: str) -> Intent:
    look = tidy(strip_image_refs(look))
    return Intent("global", None, replacement=look or None, caption=global_caption(look))


def _head(phrase: str) -> str:
    return tidy(_HEAD_CUT_RE.sub("", " " + tidy(phrase)).strip()).split(" ")[-1:][0] if tidy(phrase) else ""


def _is_look(text: str) -> bool:
    return bool(LOOK_RE.search(text) or ART_STYLE_RE.search(text) or TIME_WEATHER_RE.search(text)
                or _MOOD_ADJ_RE.search(text) or re.search(rf"\b(?:{LOOK_NOUNS})\b", text, I))


def rule_created_picture(s: str) -> Intent | None:
    """ "create a moody composition in teal and orange", "craft a dreamy pastel version of this":
    what is made is the picture (or its look), not an object placed somewhere in it."""
    m = _CREATE_RE.match(s)
    if not m:
        return None
    y = m.group("y")
    if _ANCHOR_RE.search(" " + y):
        return None  # "create a poster on the wall": an object with a place
    head = _head(re.sub(r"^(?:an?|the|some|one)\s+", "", y, flags=I))
    if re.fullmatch(WHOLE_NOUNS, head, I) and (head.lower() not in ("portrait", "landscape", "scene", "setting",
                                                                     "world", "image", "picture", "photo",
                                                                     "illustration", "poster", "still", "piece",
                                                                     "artwork") or _is_look(y) or "of this" in y):
        return _global(y)
    return None


def rule_picture_made_to_look(s: str) -> Intent | None:
    """ "make it feel like a foggy morning", "make this look like it was shot on Portra", "make it
    darker and more dramatic", "let it pour with rain": the picture itself is what changes."""
    m = _MAKE_IT_RE.match(s)
    if not m:
        return None
    y = tidy(m.group("y"))
    look = _LOOK_VERB_RE.match(y)
    if look:
        rest = look.group("rest")
        if is_scene(rest) and not _is_look(rest):
            return None  # "make it look like a beach": a new scene, left to the background rules
        return _global(rest or y)
    if _is_look(y) and not re.match(r"^(?:an?|the)\s", y, I) or re.match(r"^(?:pour|rain|snow|storm|drizzle|hail)", y, I):
        return _global(y)
    return None


def rule_picture_by_means(s: str) -> Intent | None:
    """ "infuse the image with a vaporwave palette", "relight the photo with harsh midday sun"."""
    m = _PICTURE_MEANS_RE.match(s)
    if not m or _NOT_GLOBAL_VERBS.match(m.group("v")) or not _is_look(m.group("y")):
        return None
    return _global(m.group("y"))


_GIVE_PICTURE_RE = re.compile(rf"^(?:give|lend|grant)\s+{_PICTURE}\s+(?P<y>(?:an?|some|the)\s+.+)$", I)


def rule_picture_given(s: str) -> Intent | None:
    """ "give it a high key bright airy edit", "give the photo a cinematic grade"."""
    m = _GIVE_PICTURE_RE.match(s)
    if not m:
        return None
    y = m.group("y")
    head = _head(re.sub(r"^(?:an?|the|some)\s+", "", y, flags=I))
    if re.fullmatch(WHOLE_NOUNS, head, I) or re.fullmatch(LOOK_NOUNS, head, I) or _is_look(y):
        return _global(y)
    return None


def rule_time_swap(s: str) -> Intent | None:
    """ "turn summer into fall", "switch day to night": one time of day or season for another."""
    m = _SEASON_SWAP_RE.match(s)
    return _global(m.group("y")) if m else None


def rule_added_look(s: str) -> Intent | None:
    """ "add heavy fog everywhere", "add a dreamy bokeh and soft glow to the whole photo"."""
    m = _ADD_LOOK_RE.match(s)
    if not m:
        return None
    x = _EVERYWHERE_RE.sub("", tidy(m.group("x")))
    obj = analyze_object(x)
    if not obj.target or (obj.anchor and not is_image_ref(obj.anchor)):
        return None
    last = tidy(obj.target).split(" ")[-1]
    counted = re.match(r"^(?:one|two|three|four|five|six|seven|eight|nine|ten|\d+|an?)\s+(?:[\w-]+\s+)?clouds?$",
                       x, I)  # "add three clouds": objects, not the weather
    if (WEATHER_NOUN_RE.match(obj.target) and not counted) or re.fullmatch(LOOK_NOUNS, last, I) or (
            re.match(r"^(?:an?\s+)?(?:[\w-]+\s+){0,3}(?:" + LOOK_NOUNS + r")\s+and\s+", tidy(obj.target), I)):
        return _global(x)
    return None


def rule_paint_colour(s: str) -> Intent | None:
    """ "tint the parrot a soft pink", "dye the shirt navy blue": the colour is the whole tail."""
    m = _PAINT_COLOUR_RE.match(s)
    if not m:
        return None
    obj = analyze_object(m.group("x"))
    if not obj.target or is_image_ref(obj.target):
        return _global(m.group("y")) if obj.target else None
    y = tidy(re.sub(r"^(?:an?)\s+", "", m.group("y"), flags=I))
    return Intent("local", obj.target, replacement=y, caption=local_caption(obj.target, y), spatial=obj.spatial)


def rule_rid_of(s: str) -> Intent | None:
    """ "rid the beach of the plastic bottles": the bottles go, the beach stays;
    "get that bin out of the frame": the frame is the picture, not where the bin is."""
    m = _RID_RE.match(s)
    if m:
        obj = analyze_object(m.group("x"))
        if obj.target:
            from engine.instructor.phrases import removal_caption

            anchor = tidy(re.sub(r"^(?:the|this|that|my|our|their|his|her)\s+", "", m.group("a"), flags=I))
            return Intent("removal", obj.target, caption=removal_caption(anchor), spatial=obj.spatial,
                          anchor=anchor, relation="on")
    m = _OUT_OF_FRAME_RE.match(s)
    if m:
        obj = analyze_object(m.group("x"))
        if obj.target:
            from engine.instructor.phrases import removal_caption

            return Intent("removal", obj.target, caption=removal_caption(None), spatial=obj.spatial)
    return None


RULES = (rule_rid_of, rule_time_swap, rule_created_picture, rule_picture_made_to_look, rule_picture_by_means,
         rule_picture_given, rule_added_look, rule_paint_colour)


def refine(s: str) -> Intent | None:
    """The first of :data:`RULES` that reads ``s`` (a cleaned clause), or None."""
    for rule in RULES:
        intent = rule(s)
        if intent is not None:
            return intent
    return None
