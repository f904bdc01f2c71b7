"""Word lists of the offline instruction parser (regular-expression alternations)."""

from __future__ import annotations


def alt(words: str) -> str:
    """A regex alternation of the ``|``-separated phrases, longest first, spaces as ``\\s+``."""
    items = sorted({w.strip() for w in words.split("|") if w.strip()}, key=len, reverse=True)
    return "(?:" + "|".join(i.replace(" ", r"\s+") for i in items) + ")"


# Said before the request, in several languages ("can you", "bitte", "por favor", ...).
POLITE_LEAD = alt(
    "please|pls|plz|pleas|kindly|hey|hi|hello|ok|okay|so|now|then|just|only|also|and|ah|um|well|"
    "could you|can you|would you|will you|could u|can u|would you mind|would you be so kind as to|"
    "would you be able to|could you possibly|can you possibly|are you able to|"
    "i want you to|i need you to|i would like you to|i'd like you to|i wish you would|"
    "i want to|i need to|i would like to|i'd like to|i wanna|i'm looking to|i am looking to|"
    "we need to|we should|we must|we have to|we want to|you should|you need to|you must|"
    "let's|lets|let us|try to|help me|help me to|go ahead and|be so kind as to|is it possible to|"
    "would it be possible to|i was wondering if you could|do me a favor and|do me a favour and|"
    "make sure to|be sure to|"
    "bitte|por favor|porfa|s'il vous plait|s'il vous plaît|s'il te plait|s'il te plaît|stp|svp|"
    "per favore|per piacere|prego|alsjeblieft|alstublieft|proszę|prosze|pozhaluysta|пожалуйста|"
    "lütfen|lutfen|vennligst|snälla|venligst|kérem|prosím|parakalo|παρακαλώ|onegai|"
    "请|請|麻烦|麻煩|お願いします|お願い|부탁합니다|부탁해요|제발|من فضلك|bitteschön|bitte schön|"
    "por gentileza|se puder|si puedes|si es posible|gern|gerne|tolong|xin vui lòng|kripya|"
    "can we|could we|shall we|may i ask you to|i'd love it if you could|i would love it if you could")

POLITE_TAIL = alt(
    "please|pls|plz|thanks|thank you|thank you very much|thanks a lot|thx|ty|cheers|if possible|"
    "if you can|if you could|for me|for us|bitte|danke|danke schön|por favor|gracias|merci|"
    "merci beaucoup|s'il vous plait|s'il vous plaît|s'il te plait|s'il te plaît|per favore|grazie|"
    "obrigado|obrigada|alsjeblieft|dank je|bedankt|proszę|dziękuję|пожалуйста|спасибо|lütfen|"
    "teşekkürler|tack|takk|kiitos|ありがとう|谢谢|謝謝|감사합니다|请|お願いします|"
    "now|right now|quickly|asap|real quick|thanks in advance|ok|okay")

# The whole picture, as people call it.
IMAGE_WORDS = alt("image|photo|photograph|picture|pic|pics|scene|shot|snapshot|img|canvas|"
                  "composition|whole thing|everything|whole image|entire image|entire photo|"
                  "whole photo|whole picture|entire picture|entire scene|whole scene|artwork|"
                  "illustration|view")  # not "frame" or "painting": objects in a photo ("paint the frame white")

# Removal verbs.
REMOVE_VERBS = alt(
    "remove|removes|removing|erase|erasing|delete|deleting|eliminate|eliminating|get rid of|take out|take away|take off|"
    "clear away|clear out|clear|wipe out|wipe away|wipe|rid the image of|rid|cut out|"
    "drop|lose|omit|discard|strip away|strip|extract|exclude|ditch|kill|destroy|eradicate|"
    "expunge|obliterate|scrub out|scrub|clean up|clean out|clean away|hide|dispose of|"
    "make disappear|vanish|purge|get out|throw away|throw out|pull out|pluck out|edit out|"
    "photoshop out|paint out|retouch out|crop out|blot out|white out|efface|excise|banish|expel|evict|nix|oust|"
    "entfernen|entferne|quitar|quita|eliminar|elimina|supprimer|supprime|enlever|enlève|rimuovi|"
    "togli|remover|remova")

ADD_VERBS = alt(
    "add|adds|adding|put|place|insert|inserting|include|attach|draw|produce|craft|design|compose|sketch in|plant|hang|stick|"
    "drop in|sprinkle|scatter|introduce|bring in|bring|throw in|slip in|pop in|pop|"
    "position|set|station|incorporate|append|overlay|superimpose|embed|integrate|"
    "create|generate|spawn|paste|lay|install|mount|affix|pin|perch|seat|park|"
    "hinzufügen|füge|añadir|añade|agregar|agrega|ajouter|ajoute|aggiungi|adicionar|adicione")

REPLACE_VERBS = alt("replace|replaces|replacing|swap|swap out|swapping|swapping out|exchange|exchanging|"
                    "switch|switch out|switching|substitute|substituting|trade out|"
                    "trade|interchange|supplant|supersede|ersetze|reemplaza|remplace|sostituisci|"
                    "substitua|substituir")

CHANGE_VERBS = alt(
    "change|turn|transform|convert|make|modify|alter|edit|render|morph|transmute|"
    "reimagine|re-imagine|rework|redo|redesign|restyle|refashion|recreate|re-create|remake|"
    "update|adjust|tweak|revamp|transfigure|metamorphose|shift|set|have|let|give|apply|"
    "customize|customise|rearrange|reshape|reinvent|adapt|stylize|stylise|render|depict|"
    "paint|repaint|recolor|recolour|color|colour|dye|tint|shade|cover|dress|coat|"
    "ändere|verwandle|cambia|transforma|change|modifie|trasforma")

# Whole-image looks: styles, seasons, times of day, weather, lighting.
GLOBAL_LOOK = alt(
    "style|styled|painting|painted|watercolor|watercolour|oil painting|oil|anime|manga|cartoon|"
    "cartoonish|comic|sketch|pencil|charcoal|drawing|pixel art|pixelated|8-bit|8 bit|low poly|"
    "van gogh|monet|picasso|rembrandt|da vinci|klimt|dali|warhol|hokusai|ukiyo-e|ukiyo e|"
    "impressionist|impressionism|expressionist|cubist|cubism|surreal|surrealist|pop art|art deco|"
    "art nouveau|baroque|renaissance|gothic|steampunk|cyberpunk|vaporwave|synthwave|retro|vintage|"
    "noir|film noir|sepia|black and white|black-and-white|monochrome|grayscale|greyscale|"
    "photorealistic|realistic|hyperrealistic|3d render|3d|claymation|clay|pixar|disney|ghibli|"
    "studio ghibli|lego|origami|mosaic|stained glass|graffiti|embroidery|tapestry|"
    "winter|wintry|summer|summery|autumn|autumnal|fall|spring|springtime|"
    "night|nighttime|night time|midnight|sunset|sunrise|dawn|dusk|twilight|evening|morning|"
    "daytime|day time|noon|golden hour|blue hour|snowy|snowing|rainy|raining|foggy|misty|stormy|"
    "cloudy|sunny|overcast|thunderstorm|snowstorm|"
    "brighter|darker|bright|dark|dim|lighting|light|lit|illumination|glow|neon|warm|warmer|cool|"
    "cooler|cold|colder|contrast|saturated|saturation|desaturated|hdr|exposure|vibrant|muted|"
    "pastel|tone|tones|toned|filter|mood|moody|atmosphere|ambience|ambiance|aesthetic|vibe|"
    "look|feel|era|decade|1920s|1950s|1960s|1970s|1980s|1990s|80s|90s|futuristic|apocalyptic|"
    "post-apocalyptic|dystopian|utopian|fantasy|magical|dreamy|ethereal|halloween|christmas|"
    "underwater|flooded|frozen|burning|on fire|snow|rain|fog")

# Places and scenery: "change the desert to a bedroom" is a background edit.
SCENE_WORDS = alt(
    "background|backdrop|bg|setting|scenery|surroundings|surrounding|environment|landscape|"
    "location|place|backgrounds|back ground|"
    "desert|field|fields|plain|plains|savanna|savannah|meadow|prairie|grassland|pasture|lawn|"
    "forest|woods|woodland|jungle|rainforest|rain forest|mountain|mountains|mountain range|hills|"
    "hill|valley|canyon|cliff|cliffs|glacier|snowland|snowfield|tundra|beach|seaside|coast|shore|"
    "sea|ocean|lake|river|pond|waterfall|island|skyline|street|streets|city|city street|"
    "town|village|road|highway|alley|park|garden|farm|countryside|room|bedroom|kitchen|"
    "living room|office|classroom|studio|stage|space|outer space|universe|galaxy|moon|mars|"
    "planet|underwater|cave|volcano|swamp|marsh|wasteland|ruins|arctic|antarctica|"
    "snow field|ice field|dunes|sand dunes|plaza|square|market|stadium|courtyard|backyard|"
    "harbor|harbour|port|bay|lagoon|reef|seabed|sea floor|ocean floor|cityscape|horizon|"
    "african plain|snowy mountain range|snowy mountains|snow land|wilderness|terrain|"
    "scene|view|panorama|vista|surroundings|rooftop|roof top|library|"
    "restaurant|cafe|café|airport|train station|subway station|mall|"
    "race track|racetrack|arena|gym|hospital|school|campus|boardwalk|"
    "harbourfront|waterfront|riverbank|river bank|lakeside|hillside|mountainside|mountain top|"
    "mountaintop|peak|summit|orchard|vineyard|savanna|steppe|plateau|fjord|rice field|wheat field|"
    "flower field|sunflower field|cornfield|backstreet|rooftops|downtown|suburb|neighborhood|"
    "neighbourhood|metropolis|megacity|colony|battlefield|playground|zoo|aquarium|theater|theatre|"
    "concert hall|ballroom|attic|basement|garage|bathroom|dining room|hallway|corridor|"
    "lobby|porch|patio|balcony|terrace|coral reef|snowscape|seascape|moonscape|"
    "ice rink|dance floor|runway|train platform|market square|town square|tokyo|paris|"
    "london|new york|venice|rome")

# Words that point at the spot in the picture, used to choose among detections.
SPATIAL_WORDS = alt(
    "far left|far right|top left|top right|bottom left|bottom right|upper left|upper right|"
    "lower left|lower right|left|right|top|bottom|upper|lower|middle|center|centre|front|back|"
    "foreground|background|leftmost|rightmost|left-most|right-most|topmost|bottommost|"
    "left side|right side|left hand side|right hand side|left-hand side|right-hand side")

# Adjectives that pick one object of several ("the left car", "the biggest dog").
SPATIAL_ADJ = alt(
    "leftmost|rightmost|left-most|right-most|topmost|bottommost|left|right|upper|lower|middle|"
    "central|largest|biggest|smallest|tiniest|nearest|closest|farthest|furthest|front-most|"
    "frontmost|far left|far right|top left|top right|bottom left|bottom right|upper left|"
    "upper right|lower left|lower right|left-hand|right-hand|foreground|background")

# Prepositions that end an object phrase and start its location ("the cat | on the sofa").
LOCATION_PREPS = alt(
    "on top of|in front of|at the back of|in the back of|on the left of|on the right of|"
    "to the left of|to the right of|left of|right of|next to|close to|near to|in between|"
    "out of|off of|off|away from|on|in|at|near|nearby|beside|besides|behind|under|underneath|above|"
    "below|from|into|onto|inside|outside|over|beneath|around|among|amongst|between|by|along|"
    "across|against|within|atop|upon|toward|towards|to|throughout|all over|alongside|"
    "that is|that are|which is|which are|who is|who are|so that|so it|so the|such that|"
    "until|while|and make|and then|then|instead|as well|too|for")

DETERMINERS = alt(
    "the|a|an|this|that|these|those|my|his|her|their|its|our|your|all the|all of the|all|"
    "any|every|each|both the|both|some|several|many|few|a few|multiple|the two|the three|"
    "one of the|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a couple of|"
    "couple of|a pair of|lots of|a lot of|plenty of|a bunch of|bunch of|a group of|a number of|"
    "numerous|various|more|extra|another|other|those|such|single|lone|only")

NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}

COLORS = alt("red|blue|green|yellow|orange|purple|violet|pink|black|white|gray|grey|brown|golden|"
             "gold|silver|beige|cyan|magenta|teal|turquoise|navy|maroon|crimson|scarlet|indigo|"
             "lavender|olive|tan|bronze|copper|ivory|cream|khaki|lime|mint|peach|coral|rainbow|"
             "transparent|colorful|colourful|dark|light|bright|pale|rose|ruby|emerald|amber")

# Art styles and media: a look that restyles whatever it is applied to ("give the harbour an oil-painting look").
ART_STYLES = alt(
    "style|styled|styling|painting|painted|watercolor|watercolour|oil painting|oil-painting|oil paint|"
    "anime|manga|cartoon|cartoonish|comic|comic book|sketch|pencil|charcoal|drawing|pixel art|pixel-art|"
    "pixelated|8-bit|low poly|van gogh|monet|picasso|rembrandt|klimt|dali|warhol|hokusai|ukiyo-e|"
    "impressionist|impressionism|expressionist|cubist|cubism|surreal|surrealist|pop art|art deco|"
    "art nouveau|baroque|renaissance|steampunk|cyberpunk|vaporwave|synthwave|retro|vintage|noir|"
    "film noir|sepia|black and white|black-and-white|monochrome|grayscale|greyscale|claymation|pixar|"
    "disney|ghibli|studio ghibli|origami|mosaic|stained glass|postcard|film|movie|photograph|"
    "illustration|aesthetic|filter|render|rendering|artwork|art|engraving|woodcut|etching|fresco|"
    "pastel|gouache|ink|lithograph|poster|storybook|fairy tale|fairytale|painterly|look|vibe|feel")
# Times of day and weather: the whole picture changes.
TIME_WEATHER = alt(
    "night|nighttime|night time|midnight|the middle of the night|sunset|sunrise|dawn|early dawn|dusk|"
    "twilight|evening|morning|afternoon|noon|midday|daytime|golden hour|blue hour|daybreak|nightfall|"
    "rain|raining|rainy|rainfall|heavy rain|drizzle|drizzling|downpour|storm|stormy|thunderstorm|"
    "snow|snowing|snowy|snowfall|snowstorm|blizzard|fog|foggy|mist|misty|haze|hazy|overcast|cloudy|"
    "sunny|sunshine|winter|summer|autumn|fall|spring|springtime|hail|lightning|moonlight|full moon")
WEATHER_NOUNS = alt("fog|mist|haze|rain|snow|snowfall|rainfall|drizzle|downpour|storm|thunderstorm|"
                    "blizzard|snowstorm|lightning|sunshine|sunlight|moonlight|hail|clouds|overcast sky|"
                    "heavy rain|light rain|falling snow|morning fog|night sky")
