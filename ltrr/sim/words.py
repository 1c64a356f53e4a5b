"""Word lists the simulated world builds its names, titles, queries and descriptions from.

Everything is written into the code (no downloads, no external data) so a fresh checkout can
generate a world offline. The lists are small (a few hundred words) but varied: English title
words, a few words per other language (some in non-Latin scripts), accented names, genres,
moods, podcast topics, and the extra words customers add to queries. Only constants here.
"""

from __future__ import annotations

GENRES: tuple[str, ...] = (
    "pop", "rock", "hip hop", "r&b", "jazz", "classical", "electronic", "country", "latin", "k-pop",
    "j-pop", "metal", "folk", "indie", "reggae", "blues", "soul", "ambient", "punk", "lofi",
    "bollywood", "afrobeats",
)  # fmt: skip
"""Music genres (the taste space of users; a track's first genre is its primary genre)."""

GENRE_WEIGHTS: tuple[float, ...] = (
    18, 12, 14, 7, 3, 3, 8, 5, 7, 4, 2, 3, 4, 4, 2, 1.5, 3, 1.5, 2, 2.5, 2.5, 3,
)  # fmt: skip
"""Relative share of each genre in the catalog and in the average taste (pop and hip hop lead)."""

MOODS: tuple[str, ...] = (
    "chill", "happy", "sad", "love", "party", "workout", "focus", "sleep", "summer", "dance",
    "relax", "study", "road trip", "rainy day", "throwback", "motivation",
)  # fmt: skip
"""Moods: tags in a music entity's ``genres`` list and the vocabulary of broad queries."""

MOOD_WEIGHTS: tuple[float, ...] = (10, 6, 5, 9, 6, 5, 4, 4, 3, 4, 3, 3, 2, 2, 2, 2)
"""Relative frequency of moods in broad queries and in catalog tags (Zipf-like)."""

TOPICS: tuple[str, ...] = (
    "true crime", "history", "science", "technology", "comedy", "business", "football", "basketball",
    "cooking", "travel", "health", "meditation", "politics", "news", "philosophy", "movies",
    "music history", "gaming", "parenting", "personal finance", "startups", "space", "nature",
    "psychology", "language learning", "fashion", "art", "books", "climate", "fitness",
)  # fmt: skip
"""Podcast and episode topics (topic queries: "podcasts about X")."""

LANGUAGES: tuple[str, ...] = ("en", "es", "pt", "fr", "de", "sv", "ja", "ko", "hi")
"""ISO 639-1 codes of content languages."""

LOCALES: tuple[str, ...] = (
    "en-US", "en-GB", "es-MX", "es-ES", "pt-BR", "fr-FR", "de-DE", "sv-SE", "ja-JP", "ko-KR", "hi-IN",
)  # fmt: skip
"""User locales; their language and UTC offset shape taste and time of day."""

LOCALE_WEIGHTS: tuple[float, ...] = (30, 8, 10, 5, 9, 6, 7, 3, 7, 6, 9)
LOCALE_UTC_OFFSET_H: tuple[int, ...] = (-5, 0, -6, 1, -3, 1, 1, 1, 9, 9, 5)
"""Rough UTC offset (hours) of each locale, used to turn local hours into UTC timestamps."""

ADJECTIVES: tuple[str, ...] = (
    "golden", "electric", "broken", "silent", "endless", "wild", "blue", "crimson", "velvet", "midnight",
    "neon", "lonely", "sweet", "bitter", "lucky", "hollow", "burning", "frozen", "gentle", "restless",
    "secret", "silver", "dark", "bright", "little", "young", "old", "lost", "last", "first",
    "crazy", "lazy", "hazy", "stormy", "sunny", "cosmic", "wicked", "sacred", "savage", "tender",
    "fading", "rising", "falling", "shining", "dancing", "dreaming", "running", "perfect", "pretty", "holy",
    "heavy", "easy", "slow", "fast", "strange", "quiet", "loud", "brave", "bold", "sentimental",
    "paper", "glass", "diamond", "cherry", "honey", "lemon", "ocean", "desert", "northern", "southern",
    "infinite", "magnetic", "invisible", "golden hour", "radiant", "faded", "careless", "fearless", "true",
)  # fmt: skip

NOUNS: tuple[str, ...] = (
    "love", "heart", "night", "fire", "summer", "rain", "dreams", "home", "gold", "paradise",
    "ocean", "stars", "sunshine", "forever", "moon", "sky", "city", "river", "road", "highway",
    "shadow", "light", "storm", "thunder", "lightning", "wave", "tide", "island", "garden", "rose",
    "flower", "butterfly", "angel", "devil", "ghost", "mirror", "window", "door", "train", "car",
    "radio", "television", "telephone", "letter", "song", "melody", "rhythm", "echo", "voice", "whisper",
    "kiss", "tears", "smile", "eyes", "hands", "bones", "blood", "soul", "spirit", "mind",
    "morning", "evening", "sunset", "sunrise", "winter", "spring", "autumn", "weekend", "holiday", "birthday",
    "spearfishing", "moonlight", "wildfire", "heartbeat", "daydream", "skyline", "nightcall", "firefly",
    "starlight", "rainbow", "horizon", "satellite", "avalanche", "hurricane", "volcano", "glacier",
    "lullaby", "anthem", "serenade", "ballad", "symphony", "carousel", "lemonade", "champagne", "cigarettes",
    "diamonds", "pearls", "roses", "wolves", "tigers", "horses", "birds", "oceans", "mountains", "streets",
    "neighbours", "strangers", "lovers", "friends", "kids", "queens", "kings", "rebels", "dreamers", "runaways",
)  # fmt: skip
"""Title nouns. The first twelve are also :data:`AMBIGUOUS_WORDS` and get extra weight."""

AMBIGUOUS_WORDS: tuple[str, ...] = (
    "love", "heart", "night", "fire", "summer", "rain", "dreams", "home", "gold", "paradise",
    "ocean", "stars",
)  # fmt: skip
"""Single words that are both common title words and broad needs ("love"): ambiguous queries."""

VERBS: tuple[str, ...] = (
    "dance", "run", "fall", "fly", "burn", "shine", "break", "hold", "stay", "leave",
    "remember", "forget", "believe", "breathe", "dream", "wait", "call", "come", "go", "feel",
    "touch", "hide", "chase", "lose", "find", "follow", "kiss", "sing", "cry", "rise",
)  # fmt: skip

TITLE_PATTERNS: tuple[str, ...] = (
    "{noun}", "{adj} {noun}", "{adj} {noun}", "{verb} with me", "{noun} of {noun2}", "{verb}",
    "{adj} {noun}", "the {noun}", "{noun} {noun2}", "{verb} {adj}", "{noun} in the {noun2}",
    "{adj} {adj2} {noun}", "don't {verb}", "{noun} song", "my {noun}", "{verb} all night",
)  # fmt: skip
"""Track title patterns (English)."""

ALBUM_PATTERNS: tuple[str, ...] = (
    "{adj} {noun}", "{noun}", "the {adj} {noun}", "{noun} sessions", "songs of {noun}", "{adj}",
    "{noun} and {noun2}", "live at the {noun}", "{adj} {noun} deluxe",
)  # fmt: skip

FOREIGN_WORDS: dict[str, tuple[str, ...]] = {
    "es": ("amor", "corazón", "noche", "fuego", "sol", "cielo", "vida", "bailar", "luna", "mar", "sueños",
           "canción", "mañana", "verano", "alegría", "bésame", "mi", "tu", "siempre", "loco"),
    "pt": ("saudade", "coração", "mar", "amor", "noite", "sol", "vida", "samba", "lua", "sonho", "estrela",
           "paixão", "praia", "você", "meu", "tempo"),
    "fr": ("amour", "nuit", "rêve", "cœur", "étoile", "soleil", "toujours", "chanson", "belle", "été",
           "ciel", "lumière", "ma", "vie", "éternel"),
    "de": ("liebe", "nacht", "herz", "sommer", "traum", "himmel", "feuer", "stadt", "für", "immer", "zeit",
           "mädchen", "glück", "straße"),
    "sv": ("kärlek", "natt", "hjärta", "sommar", "dröm", "himmel", "stjärna", "hav", "älska", "för", "alltid"),
    "ja": ("夜", "海", "空", "花", "夢", "東京", "恋", "星", "桜", "光", "雨", "ナイト", "サマー"),
    "ko": ("사랑", "밤", "꿈", "별", "하늘", "바다", "너", "봄", "눈물", "우리"),
    "hi": ("दिल", "प्यार", "रात", "सपना", "इश्क", "जान", "चाँद", "बारिश"),
}  # fmt: skip
"""A few words per language; ja/ko/hi entries are in their own scripts (non-Latin titles)."""

ROMANIZED_WORDS: dict[str, tuple[str, ...]] = {
    "ja": ("yoru", "umi", "sora", "hana", "yume", "koi", "hoshi", "sakura", "hikari", "ame", "tokyo"),
    "ko": ("sarang", "bam", "kkum", "byeol", "haneul", "bada", "neo", "bom", "nunmul", "uri"),
    "hi": ("dil", "pyaar", "raat", "sapna", "ishq", "jaan", "chand", "barish", "tum", "hum"),
}
"""Romanized words for the same languages (most ja/ko/hi titles are romanized)."""

FIRST_NAMES: tuple[str, ...] = (
    "taylor", "ariana", "justin", "selena", "harry", "billie", "olivia", "dua", "ed", "adele",
    "bruno", "kendrick", "drake", "rihanna", "lana", "sam", "lewis", "shawn", "camila", "demi",
    "miley", "katy", "lady", "nicki", "cardi", "travis", "post", "khalid", "sza", "lizzo",
    "frank", "tyler", "mac", "noah", "liam", "emma", "ava", "mia", "lucas", "ethan",
    "sofia", "isabella", "mateo", "santiago", "valentina", "camille", "léa", "chloé", "zoë", "renée",
    "beyoncé", "josé", "inés", "joaquín", "maël", "björn", "søren", "åsa", "jürgen", "françois",
    "noémie", "andrés", "mónica", "raúl", "céline", "anaïs", "héloïse", "jérôme", "dário", "joão",
    "yuki", "haruto", "sakura", "min-jun", "ji-woo", "seo-yeon", "arjun", "priya", "rohan", "ananya",
)  # fmt: skip
"""Given names (some accented, some ja/ko/hi romanized) for artists, hosts and curators."""

LAST_NAMES: tuple[str, ...] = (
    "swift", "grande", "bieber", "gomez", "styles", "eilish", "rodrigo", "lipa", "sheeran", "adkins",
    "mars", "lamar", "graham", "fenty", "del rey", "smith", "capaldi", "mendes", "cabello", "lovato",
    "cyrus", "perry", "gaga", "minaj", "scott", "malone", "robinson", "ocean", "miller", "kahan",
    "johnson", "williams", "brown", "jones", "garcia", "martinez", "rodriguez", "lopez", "hernandez", "wilson",
    "dupont", "moreau", "lefèvre", "girard", "müller", "schröder", "weiß", "andersson", "lindqvist", "nyström",
    "pérez", "sánchez", "ramírez", "gonzález", "muñoz", "díaz", "álvarez", "gómez", "conceição", "araújo",
    "tanaka", "suzuki", "sato", "watanabe", "kim", "park", "lee", "choi", "sharma", "kapoor",
    "patel", "singh", "gupta", "mehta", "knowles", "carter", "hayes", "brooks", "reed", "fox",
)  # fmt: skip

MONONYMS: tuple[str, ...] = (
    "rosalía", "beyoncé", "zaïre", "anitta", "björk", "stromae", "aurora", "lorde", "sia", "raye",
    "kehlani", "halsey", "banks", "grimes", "solange", "moby", "tiësto", "aventura", "maná", "naïka",
    "oumou", "ólafur", "sigrún", "yoasobi", "aimyon", "iu", "zico", "badshah", "nucleya", "dhee",
)  # fmt: skip
"""Single-name artists (several accented: "rosalía", "beyoncé", "björk", "tiësto")."""

BAND_PATTERNS: tuple[str, ...] = (
    "the {adj} {noun_pl}", "{adj} {noun}", "the {noun_pl}", "{noun} {noun2}", "dj {first}", "mc {last}",
    "lil {noun}", "{first} & the {noun_pl}", "{adj} {noun} club", "{noun} collective",
)  # fmt: skip

PLAYLIST_PATTERNS: tuple[str, ...] = (
    "{mood} vibes", "{mood} {genre}", "{genre} hits", "{genre} essentials", "best of {genre}",
    "{mood} mix", "today's top {genre}", "{mood} songs", "{genre} classics", "{mood} playlist",
    "{adj} {mood}", "{genre} {mood} mix", "new {genre}", "{mood} hits",
)  # fmt: skip

PODCAST_PATTERNS: tuple[str, ...] = (
    "the {topic} podcast", "{topic} today", "{topic} weekly", "{first}'s {topic} hour", "all about {topic}",
    "the {adj} {topic} show", "{topic} explained", "{topic} talk", "deep dive: {topic}", "{last} on {topic}",
)  # fmt: skip

EPISODE_PATTERNS: tuple[str, ...] = (
    "episode {n}: {topic} and {noun}", "{topic}: the {adj} {noun}", "why {topic} matters", "the {noun} of {topic}",
    "{n}. {adj} {topic}", "{topic} with {first} {last}", "how {topic} changed the {noun}", "{topic} q&a #{n}",
)  # fmt: skip

PUBLISHERS: tuple[str, ...] = (
    "wavelength media", "northstar audio", "open air studios", "blue door network", "lighthouse podcasts",
    "kitchen table media", "parallax audio", "sound & story", "the listening room", "signal hill",
)  # fmt: skip
"""Podcast publishers (the ``artist`` field of podcasts and episodes)."""

CURATORS: tuple[str, ...] = ("ltrr editors", "ltrr mixes", "community", "radio team", "staff picks")
"""Playlist curators (the ``artist`` field of playlists)."""

QUERY_EXTRAS: dict[str, tuple[str, ...]] = {
    "track": ("lyrics", "song", "{artist}", "by {artist}", "live", "remix", "acoustic", "official"),
    "artist": ("songs", "music", "radio", "live", "new song", "best songs"),
    "album": ("album", "{artist}", "full album", "deluxe"),
    "playlist": ("playlist", "mix"),
    "podcast": ("podcast", "latest episode"),
    "episode": ("{podcast}", "episode"),
}
"""Extra words customers append to a direct query ("spearfishing lyrics", "tayler love")."""

BROAD_TEMPLATES: tuple[tuple[str, float], ...] = (
    ("{mood}", 6.0), ("{mood} songs", 5.0), ("{mood} music", 3.0), ("{mood} playlist", 2.0),
    ("{genre}", 4.0), ("{genre} music", 2.0), ("{genre} songs", 1.5), ("{mood} {genre}", 3.0),
    ("best {genre}", 1.0), ("{genre} hits", 1.0), ("new {genre}", 1.0), ("", 0.3),
)  # fmt: skip
"""Broad query templates with their relative weights; "" is an empty, browse-style query."""

TOPIC_TEMPLATES: tuple[tuple[str, float], ...] = (
    ("{topic} podcast", 5.0), ("podcasts about {topic}", 3.0), ("{topic}", 3.0), ("{topic} episodes", 1.0),
    ("best {topic} podcast", 1.0),
)  # fmt: skip

KEYBOARD_NEIGHBOURS: dict[str, str] = {
    "q": "wa", "w": "qeas", "e": "wrsd", "r": "etdf", "t": "ryfg", "y": "tugh", "u": "yihj", "i": "uojk",
    "o": "ipkl", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx", "f": "drtgvc", "g": "ftyhbv",
    "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop", "z": "asx", "x": "zsdc", "c": "xdfv",
    "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
}  # fmt: skip
"""QWERTY neighbours, for realistic substitution typos."""

VOWEL_SWAPS: dict[str, str] = {"a": "e", "e": "a", "i": "y", "y": "i", "o": "e", "u": "o"}
"""Phonetic vowel confusions ("taylor" -> "tayler")."""

NAMES_BY_LANGUAGE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ja": (("yuki", "haruto", "sakura", "ren", "aoi", "hina", "sora"), ("tanaka", "suzuki", "sato", "watanabe", "ito")),
    "ko": (("min-jun", "ji-woo", "seo-yeon", "ha-eun", "do-yun", "ye-jin"), ("kim", "park", "lee", "choi", "jung")),
    "hi": (
        ("arjun", "priya", "rohan", "ananya", "vikram", "neha", "kabir"),
        ("sharma", "kapoor", "patel", "singh", "gupta"),
    ),
}
"""Given and family names used for artists of ja/ko/hi content (romanized)."""

GENRE_LANGUAGES: dict[str, dict[str, float]] = {
    "latin": {"es": 0.7, "pt": 0.3},
    "k-pop": {"ko": 0.9, "en": 0.1},
    "j-pop": {"ja": 0.9, "en": 0.1},
    "bollywood": {"hi": 0.95, "en": 0.05},
    "afrobeats": {"en": 0.8, "fr": 0.2},
}
"""Language mix of genres whose language is not mostly English."""

DEFAULT_LANGUAGE_MIX: dict[str, float] = {
    "en": 0.72, "es": 0.06, "pt": 0.03, "fr": 0.06, "de": 0.06, "sv": 0.04, "ja": 0.01, "ko": 0.01, "hi": 0.01,
}  # fmt: skip
"""Language mix of every other genre (and of podcasts)."""

GENRE_MOOD_AFFINITY: dict[str, tuple[str, ...]] = {
    "lofi": ("focus", "study", "chill"),
    "ambient": ("sleep", "relax", "focus"),
    "classical": ("focus", "sleep"),
    "metal": ("workout", "motivation"),
    "punk": ("party", "workout"),
    "electronic": ("dance", "party", "workout"),
    "hip hop": ("workout", "party"),
    "pop": ("happy", "love", "dance"),
    "r&b": ("love", "chill"),
    "soul": ("love", "throwback"),
    "blues": ("sad", "rainy day"),
    "country": ("road trip", "sad"),
    "reggae": ("summer", "chill"),
    "latin": ("dance", "summer", "love"),
    "afrobeats": ("dance", "summer"),
    "folk": ("rainy day", "chill"),
    "indie": ("road trip", "sad"),
    "jazz": ("relax", "rainy day"),
}
"""Moods a genre's tracks lean to (added on top of the global mood weights)."""

GENRE_DISPLAY: dict[str, str] = {
    "r&b": "R&B", "k-pop": "K-Pop", "j-pop": "J-Pop", "hip hop": "Hip Hop", "dj": "DJ", "mc": "MC",
}  # fmt: skip
"""Display spelling of words whose capitalisation is not simply the first letter."""
