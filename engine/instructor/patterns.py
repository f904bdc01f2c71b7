"""Regular expressions of the offline instruction parser (see :mod:`engine.instructor.parser`)."""

from __future__ import annotations

import re

from engine.instructor.lexicon import (ADD_VERBS, ART_STYLES, CHANGE_VERBS, COLORS, GLOBAL_LOOK, IMAGE_WORDS,
                                       POLITE_LEAD, POLITE_TAIL, REMOVE_VERBS, REPLACE_VERBS, TIME_WEATHER,
                                       WEATHER_NOUNS)

I = re.IGNORECASE
MAX_CHARS = 600  # longer text is cut: instructions are short, junk must stay cheap

LEAD_RE = re.compile(rf"^(?:{POLITE_LEAD})\b[\s,!.:;-]*", I)
TAIL_RE = re.compile(rf"[\s,!.:;-]*\b(?:{POLITE_TAIL})$", I)
WISH_RE = re.compile(r"^(?:i(?:\s+want|\s+need|\s+would\s+like|'d\s+like|\s+d\s+like|\s+wish\s+for|'d\s+love|"
                      r"\s+would\s+love)|give\s+me|show\s+me|i'm\s+after|we\s+want|we\s+need)\s+", I)
BG = r"(?:background|backdrop|back\s*ground|bg|setting|scenery|surroundings|environment)"
DEF = r"(?:the|this|that|my|his|her|its|our|their|your|these|those)"
INDEF = r"(?:a|an|some|one|two|three|four|five|six|seven|eight|nine|ten|several|many|few|a\s+few|\d+)"
PARTICIPLE_REMOVE = (r"(?:removed|gone|deleted|erased|eliminated|expunged|wiped(?:\s+out|\s+away)?|scrubbed(?:\s+out)?|"
                      r"stripped(?:\s+away)?|excluded|omitted|discarded|ditched|dropped|purged|banished|"
                      r"eradicated|obliterated|edited\s+out|painted\s+out|cropped\s+out|got(?:ten)?\s+rid\s+of|"
                      r"taken\s+off|cleaned\s+up|cleared\s+(?:away|out)|thrown\s+(?:away|out)|"
                      r"taken\s+out|taken\s+away|cut\s+out|"
                      r"wiped\s+out|cleared|missing|hidden|out\s+of\s+(?:the\s+)?(?:" + IMAGE_WORDS +
                      r")|out|away|disappear(?:ed)?|vanish(?:ed)?|go\s+away|be\s+gone|invisible|"
                      r"get\s+removed|got\s+removed)")

ARROW_RE = re.compile(r"^(?P<x>.+?)\s*(?:->|=>|→|⇒|⟶|➔|➜)\s*(?P<y>.+)$")
REMOVE_RE = re.compile(rf"^(?:{REMOVE_VERBS})\b\s*(?:all\s+(?:of\s+)?|any\s+(?:of\s+)?|every\s+)?(?P<x>.+)$", I)
REMOVE_PARTICLE_RE = re.compile(
    r"^(?:take|get|pull|cut|wipe|clean|clear|throw|edit|crop|paint|photoshop|rub|scrub|blot|white|"
    r"leave|keep|move|rip|tear|chop|knock|pluck|brush|scrape|wash|rinse|peel|strip|sand|scratch|pick|"
    r"prise|pry|flick|blow|sweep|dust|hose|lift|shake|unstick)\s+(?P<x>.+?)\s+(?P<p>out|away|off)\b(?P<rest>.*)$", I)
MAKE_GONE_RE = re.compile(rf"^(?:make|have|let|get)\s+(?P<x>.+?)\s+(?:be\s+)?{PARTICIPLE_REMOVE}\b(?P<rest>.*)$", I)
NO_MORE_RE = re.compile(
    r"^(?:(?:ensure|make\s+sure|see\s+to\s+it)\s+(?:that\s+)?)?(?:there(?:\s+is|\s+are|'s|\s+should\s+be|"
    r"\s+must\s+be|\s+will\s+be|\s+shall\s+be)\s+|i\s+(?:don't|do\s+not|dont)\s+want\s+(?:to\s+see\s+)?(?:any\s+)?|"
    r"we\s+(?:don't|do\s+not)\s+(?:want|need)\s+(?:any\s+)?|without\s+|leave\s+out\s+|"
    r"there\s+should\s+not\s+be\s+|no\s+(?:more\s+)?)(?:no\s+(?:more\s+)?)?(?:longer\s+)?(?:any\s+)?(?P<x>.+)$", I)
SUBJ_GONE_RE = re.compile(
    rf"^(?P<x>.+?)\s+(?:(?:should|must|needs?\s+to|has\s+to|have\s+to|shall|will|can|could|to)\s+"
    rf"(?:be\s+|go\s+|get\s+)?|(?:is|are)\s+(?:to\s+be\s+)?|be\s+)?{PARTICIPLE_REMOVE}\b(?P<rest>.*)$", I)
REPLACE_RE = re.compile(
    rf"^(?P<v>{REPLACE_VERBS})\s+(?:out\s+)?(?P<x>.+?)\s+(?:with|by|for|to|into|in\s+favou?r\s+of|"
    rf"and\s+(?:put|add|use|place)|->|so\s+(?:it|they)\s+(?:is|are|becomes?))\s+(?P<y>.+)$", I)
REPLACE_ALONE_RE = re.compile(rf"^(?P<v>{REPLACE_VERBS})\s+(?P<x>.+)$", I)
COLOR_OF_RE = re.compile(
    r"^(?:change|alter|modify|switch|turn|make|set|adjust|update|shift|swap)\s+(?:the\s+)?"
    r"(?:colou?r|colou?ring|hue|shade|tone|texture|material|pattern)\s+of\s+(?P<x>.+?)\s+"
    r"(?:to|into|in|as|with|from\s+\w+\s+to)\s+(?:be\s+)?(?P<y>.+)$", I)
POSS_COLOR_RE = re.compile(
    r"^(?:change|alter|modify|switch|turn|make|set|adjust|update)\s+(?P<x>.+?)(?:'s|s')?\s+"
    r"(?:colou?r|hue|texture|material|pattern)\s+(?:to|into|in|as)\s+(?:be\s+)?(?P<y>.+)$", I)
PAINT_RE = re.compile(r"^(?:paint|repaint|colou?r|recolou?r|dye|tint|spray|spray\s+paint)\s+"
                       r"(?P<x>(?!a\s|an\s).+?)\s+(?:in\s+|with\s+|to\s+)?(?P<y>[\w-]+(?:\s+and\s+[\w-]+)?)$", I)
CHANGE_RE = re.compile(
    rf"^(?P<v>{CHANGE_VERBS})\s+(?P<x>.+?)\s+(?:(?:so\s+(?:that\s+)?(?:it|they)\s+)?(?:looks?|appears?|seems?)"
    rf"\s+(?:like|as\s+(?:if|though)\s+(?:it\s+)?(?:were|was)|to\s+be)?|(?:in\s*to|into|to\s+be|to\s+look\s+like|"
    rf"to\s+resemble|to\s+become|to|as\s+if\s+(?:it\s+)?(?:were|was|is)|as|like|resemble|become|"
    rf"becomes|be|with|from\s+[\w\s]+?\s+to))\s+(?P<y>.+)$", I)
MAKE_ADJ_RE = re.compile(r"^(?:make|render|get|have|let|keep|turn)\s+(?P<x>.+?)\s+(?P<y>(?:a|an)\s+.+|"
                          r"(?:more|less|very|much|extra|super|really|slightly|a\s+bit|a\s+little)\s+.+|"
                          r"[\w-]+(?:\s*(?:and|,)\s*[\w-]+)?)$", I)
PLACE_SUBJECT_RE = re.compile(
    rf"^(?:make|put|place|move|set|show|have|transport|take|bring|send|teleport|relocate|let|"
    rf"drop|depict|display|picture|imagine|see)\s+(?P<x>{DEF}\s+.+?|(?:him|her|them|it))\s+"
    rf"(?:(?:sit(?:ting)?|stand(?:ing)?|be|being|to\s+be|appear|walk(?:ing)?|lying|lie|sail(?:ing)?|"
    rf"float(?:ing)?|swim(?:ming)?|fly(?:ing)?|run(?:ning)?|rest(?:ing)?|pose|posing|drive|driving|"
    rf"wait(?:ing)?)\s+)?"
    rf"(?:in\s+front\s+of|in|on|at|into|onto|to|inside|within|under)\s+(?P<y>.+)$", I)
GIVE_RE = re.compile(rf"^(?:give|gift|hand|get)\s+(?P<a>.+?)\s+(?P<x>{INDEF}\s+.+)$", I)
WEAR_RE = re.compile(
    rf"^(?:(?:make|have|let|get)\s+)?(?P<a>.+?)\s+(?:(?:should|must|to|will|can)\s+)?(?:(?:wear|wears|wearing|"
    rf"hold|holds|holding|carry|carries|carrying|put\s+on|puts\s+on|sport|sporting|don|donning|"
    rf"grow|grows)\s+(?P<x>(?:{INDEF}\s+)?.+)|(?:have|has|having|with|get|gets)\s+(?P<x2>{INDEF}\s+.+))$", I)
THERE_BE_RE = re.compile(
    r"^(?:(?:let|make\s+sure)\s+)?there\s+(?:should\s+be|must\s+be|will\s+be|needs\s+to\s+be|be|is|are|'s)"
    r"\s+(?:also\s+)?(?P<x>.+)$", I)
ADD_RE = re.compile(rf"^(?P<v>{ADD_VERBS})\b\s*(?:in\s+|on\s+)?(?P<x>.+)$", I)
SUBJ_BE_RE = re.compile(
    rf"^(?P<x>(?:{DEF}\s+)?.+?)\s+(?:should|must|needs?\s+to|has\s+to|have\s+to|shall|will|to|"
    rf"could|can|would)\s+(?:be|become|look\s+like|look|turn\s+into|turn|change\s+to)\s+(?P<y>.+)$", I)
WHAT_IF_RE = re.compile(r"^(?:what\s+if|imagine\s+(?:if)?|suppose|pretend)\s+(?P<x>.+?)\s+(?:was|were|is|are|became|turned\s+into)\s+(?P<y>.+)$", I)
STYLE_RE = re.compile(r"(?:\bstyle\b|\bpainting\b|\bpainted\b|\bin\s+the\s+(?:manner|style)\s+of\b|\bdrawn\s+as\b|"
                       r"\bfilter\b|\baesthetic\b)", I)
GLOBAL_VERB_RE = re.compile(
    r"^(?:brighten|darken|lighten|dim|enhance|sharpen|saturate|desaturate|colori[sz]e|stylize|"
    r"stylise|cartoonize|cartoonise|animate|anime-?fy|age|warm|cool|relight|re-light|"
    r"increase|decrease|reduce|boost|raise|lower)\b(?:\s+(?:up|down))?\s*(?P<x>.*)$", I)
GLOBAL_VERB_LOOK = {"brighten": "brighter", "darken": "darker", "lighten": "lighter", "dim": "dimmer",
                     "enhance": "enhanced, high quality", "sharpen": "sharper", "warm": "warmer tones",
                     "cool": "cooler tones", "saturate": "more saturated colors",
                     "desaturate": "desaturated colors", "colorize": "full color", "colorise": "full color",
                     "age": "aged, vintage look", "cartoonize": "cartoon style", "cartoonise": "cartoon style"}
LOOK_RE = re.compile(rf"\b(?:{GLOBAL_LOOK})\b", I)

ENSURE_BE_RE = re.compile(r"^(?:ensure|make\s+sure|see\s+to\s+it|check|verify)\s+(?:that\s+)?(?P<x>.+?)\s+"
                           r"(?:is|are|looks?|becomes?|gets?|turns?)\s+(?P<y>.+)$", I)
OPT_FOR_RE = re.compile(r"^(?:opt\s+for|go\s+(?:for|with)|use|choose|pick|select|apply|try)\s+(?P<y>.+?)\s+"
                         r"(?:for|on|to)\s+(?P<x>.+)$", I)
COAT_RE = re.compile(r"^(?:coat|cover|paint|spray|wash|drench|splash|fill|tint|shade|dye|color|colour)\s+"
                      r"(?P<x>.+?)\s+(?:with|in)\s+(?P<y>.+)$", I)
COLORISH_RE = re.compile(rf"\b(?:{COLORS}|colou?r|colou?rs|paint|pigment|dye|tint|hue|shade|tone)\b", I)
COLOR_SUFFIX_RE = re.compile(r"\s+(?:in\s+(?:colou?r|hue|tone|shade)|colou?red|hued|toned|in\s+appearance)$", I)

ART_STYLE_RE = re.compile(rf"\b(?:{ART_STYLES})\b", I)
TIME_WEATHER_RE = re.compile(rf"\b(?:{TIME_WEATHER})\b", I)
WEATHER_NOUN_RE = re.compile(rf"^(?:(?:some|a\s+bit\s+of|a\s+little|more|heavy|light|thick|dense|soft|"
                             rf"gentle|falling)\s+)*(?:{WEATHER_NOUNS})$", I)
# "as if photographed at dusk", "at sunset", "as though it were snowing", "show it during a thunderstorm".
AS_IF_TIME_RE = re.compile(
    rf"^(?:(?:make|show|depict|render|have|set|picture|imagine|put)\s+(?:it|this|the\s+(?:scene|image|photo|"
    rf"picture|shot))\s+)?(?:(?:look\s+)?as\s+(?:if|though)\s+)?(?:(?:it|this|the\s+\w+)\s+(?:was|were|is|had\s+been)\s+)?"
    rf"(?:(?:photographed|shot|taken|captured|filmed|pictured|seen|viewed|lit)\s+)?(?:at|during|in|on|under)?\s*"
    rf"(?:(?:the|a|an)\s+)?(?:(?:\w+\s+){{0,2}})?(?P<y>{TIME_WEATHER})(?:\s+\w+){{0,2}}$", I)
WEATHER_VERB_RE = re.compile(r"^(?:let|make|have)\s+it\s+(?P<y>rain|snow|storm|pour|drizzle|hail|thunder)\w*"
                             r"(?:\s+\w+){0,2}$", I)
INSTEAD_RE = re.compile(r"\s+(?:instead\s+of|rather\s+than|in\s+place\s+of)\s+(?P<z>.+)$", I)
PLACE_SUBJ_BE_RE = re.compile(
    r"^(?P<x>(?:the|this|that|my|his|her|its|our|their)\s+.+?)\s+(?:should|must|needs?\s+to|has\s+to|"
    r"have\s+to|shall|will|could|can|would)\s+(?:be\s+)?(?:(?:sitting|standing|lying|walking|"
    r"running|swimming|flying|floating|resting|placed|located|shown|seen|appear(?:ing)?|sit|stand|lie)\s+)?"
    r"(?:in|on|at|inside|within|under)\s+(?P<y>.+)$", I)
