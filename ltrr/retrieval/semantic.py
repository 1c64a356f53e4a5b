"""Semantic retrieval: LSA (TF-IDF + truncated SVD) vectors of entity text, nearest by cosine.

Lexical BM25 finds entities whose *names* contain the query words; broad and topic queries
("history podcast", "chill jazz playlist") name a *subject*, and the entities about it rarely
carry it in their title. This strategy embeds what an entity is about and what a query asks
for in one low-dimensional space and returns the entities nearest to the query.

Entity text (:func:`entity_text`), by field, with its weight (the number of times it is
repeated before TF-IDF; term frequencies are raw counts, so weights act linearly):

- tags, ``genres`` and ``topics`` (genres, moods, topics), weight 4 (``TAG_WEIGHT``): the
  curated subject of the entity, exactly the vocabulary of broad and topic queries;
- ``description``, weight 1: free text about the entity (in the simulated catalog it restates
  genre, moods or topics and names the kind of entity: "song", "album", "podcast", "episode"),
  minus the words of the entity's own title, artist and album that are not tag words;
- the entity type as words (``TYPE_WORDS``: "music song track", "podcast episode", ...),
  weight 1, a light lean of "jazz playlist" to playlists and "history podcast" to podcasts, and
  "music" for all music so that "jazz music" means jazz. Added only when the entity has tags or
  a description with a non-stop word: a type alone says nothing about the subject.
- ``title``, ``artist``, ``album``: not used (weight 0). They are names, which lexical retrieval
  matches far better; their words ("love", "summer", "night", "blue") would collide with moods,
  and each artist's or album's name words, shared by all its tracks, form tight clusters that
  take SVD dimensions away from subjects. For the same reason they are removed from the
  description ("... folk song by Home Heart from the album Sentimental" keeps "folk song album").

Why these weights: the catalog has about 75 subjects (22 genres, 16 moods, 30 topics, the
types) for 64 dimensions, so the SVD merges the weakest ones unless tags dominate the variance.
Measured on the simulated medium catalog (seed 7, 64 dims; share of the top 10 of
"<topic> podcast" tagged with the topic, over the 30 topics): sublinear TF with tags x2 gave
mean 0.81 and worst topic 0.1 (art, books, space, climate merged into others); raw counts with
tags x4 give 1.0 for every topic (bare "<topic>" queries 0.97, worst 0.5: nature and
psychology share a direction), and 1.0 for every genre and mood query template of
``ltrr.sim.words``. Removing name words from descriptions took the small catalog from 0.50 to
0.75 over all topics (under the old weights). 128 dimensions also separate every topic, at
twice the search cost.

Analyzer (:class:`Analyzer`, the same for entities and queries): join words across "-", "&"
and apostrophes ("k-pop" -> "kpop", "r&b" -> "rb"), lower-case and fold accents as
:func:`ltrr.retrieval.popular.fold` does ("Beyoncé" -> "beyonce"), split on the rest (words in
other scripts are kept whole); add the catalog's multi-word tags as one term each
("music history" -> "music_history", next to "music" and "history", so "music history" and
"history" podcasts stay apart); drop stop words (scikit-learn's English list minus
``KEPT_STOP_WORDS`` such as "show", plus ``EXTRA_STOP_WORDS`` such as "best", "new": they ask
for popularity or recency, not a subject); fold a plural "-s" ("songs" -> "song", "podcasts"
-> "podcast"; not after "ss"/"us"/"is", nor in ``PLURAL_EXCEPTIONS`` such as "news", "blues").

Transform (fitted with scikit-learn at build time, :func:`fit_pipeline`): ``TfidfVectorizer``
(smoothed idf, raw term counts: ``sublinear_tf=False``, ``norm="l2"``) then
``TruncatedSVD(dims, random_state=seed)`` (ARPACK, exact and deterministic for a seed; the
randomized solver for tiny catalogs ARPACK cannot take), then each vector is L2-normalised. An
entity with no term has a zero vector and is never returned. ``dims`` is reduced when the
catalog is small: TruncatedSVD needs fewer components than terms and no more than entities; with
a single term the TF-IDF space itself (one dimension) is used.

Serving (:meth:`SemanticIndex.encode`, :meth:`SemanticIndex.search_rows`) does not use
scikit-learn (nor imports it): the saved vocabulary, idf and SVD components re-implement the
query transform in numpy (tested equal to scikit-learn's to 1e-6), and a search is one float32
matrix-vector product against the entity vectors plus ``np.argpartition``. Scores are cosine
similarities rounded to 6 decimals; ties are broken by catalog row; only scores > 0 are
returned. Nothing is cached or mutated after build/open, so an index can serve many threads.

Saved form (:meth:`SemanticIndex.save`, a directory; no pickles): ``semantic.json`` (format
version, dims, seed, TF-IDF options, the analyzer's stop words and phrases, counts),
``entity_ids.json``, ``vocabulary.json`` (term -> column), ``idf.npy`` (float64),
``components.npy`` (float32, dims x terms) and ``vectors.npy`` (float32, entities x dims, unit
rows or zero).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from ltrr.retrieval.popular import fold

if TYPE_CHECKING:
    import scipy.sparse
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

FORMAT_VERSION = 1
TAG_WEIGHT = 4
"""Times the tags (genres, moods, topics) are repeated in an entity's text."""
DESCRIPTION_WEIGHT = 1
TYPE_WEIGHT = 1
TYPE_WORDS: dict[str, str] = {
    "track": "music song track",
    "artist": "music artist singer band",
    "album": "music album",
    "playlist": "music playlist mix",
    "podcast": "podcast show",
    "episode": "podcast episode",
}
"""Words added to an entity's text for its type (the words of ``popular.TYPE_WORDS``, and
"music" for music: otherwise its only catalog use, the topic "music history", makes it a rare,
heavy term and sends "jazz music" to music-history podcasts)."""
KEPT_STOP_WORDS = frozenset({"show", "fire", "cry"})
"""Words of scikit-learn's English stop list that carry meaning here (a type word, title nouns)."""
EXTRA_STOP_WORDS = frozenset({"best", "new", "latest", "hits", "hit", "popular"})
"""Query words about popularity or recency, not subject (the popular strategy serves them;
"best" would otherwise pull every "best ... podcast" to playlists, described as "the best ...")."""
PLURAL_EXCEPTIONS = frozenset({"news", "blues", "series", "always", "perhaps"})
"""Words ending in "s" that are not plurals (kept whole)."""
SUBLINEAR_TF = False
TFIDF_NORM = "l2"
SMOOTH_IDF = True
SCORE_DECIMALS = 6
_TIE_EPS = 2.0 * 10.0**-SCORE_DECIMALS
_COLUMNS = ("entity_id", "entity_type", "title", "artist", "album", "genres", "topics", "description")
_JOINERS = re.compile(r"(?<=\w)[-&'’](?=\w)")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)  # as in popular.fold


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) and word not in PLURAL_EXCEPTIONS:
        return word[:-1]
    return word


def words(text: str) -> list[str]:
    """The words of a text: joined across "-", "&" and apostrophes ("k-pop" -> "kpop",
    "r&b" -> "rb", "today's" -> "todays"), lower-cased, accent-folded, split on the rest.

    Args:
        text: any text (non-string values give no words).

    Returns:
        The words in order.
    """
    if not isinstance(text, str) or not text:
        return []
    text = _JOINERS.sub("", text).lower()
    if text.isascii():  # fold() without the (slow) Unicode normalisation, same result
        return _WORD.findall(text)
    return fold(text).split()


class Analyzer:
    """Text to terms, the same for entities and queries (a callable, so ``TfidfVectorizer``
    can use it): :func:`words`; then, for each run of words that is a known phrase ("hip hop",
    "music history"), the phrase as one term ("music_history") before its words; each word
    that is not a stop word, with a plural "-s" folded ("songs" -> "song").

    Args:
        stop_words: words to drop (folded form).
        phrases: multi-word phrases (folded words separated by spaces) kept as terms too.
    """

    def __init__(self, stop_words: Iterable[str], phrases: Iterable[str] = ()) -> None:
        self.stop_words = frozenset(stop_words)
        self.phrases = frozenset(tuple(p.split()) for p in phrases if len(p.split()) > 1)
        self._lengths = sorted({len(p) for p in self.phrases}, reverse=True)

    @classmethod
    def default(cls, phrases: Iterable[str] = ()) -> Analyzer:
        """scikit-learn's English stop words, folded, minus ``KEPT_STOP_WORDS``, plus
        ``EXTRA_STOP_WORDS`` (imports scikit-learn)."""
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        stops = ({w for s in ENGLISH_STOP_WORDS for w in words(s)} - KEPT_STOP_WORDS) | EXTRA_STOP_WORDS
        return cls(stops, phrases)

    def __call__(self, text: str) -> list[str]:
        """The terms of a text, in order, repeats kept (none for a non-string)."""
        ws = words(text)
        terms = []
        for i, w in enumerate(ws):
            for n in self._lengths:
                if tuple(ws[i : i + n]) in self.phrases:
                    terms.append("_".join(ws[i : i + n]))
            if w not in self.stop_words:
                terms.append(_singular(w))
        return terms


def phrases_of(tags: Iterable[str]) -> list[str]:
    """The multi-word tags ("hip hop", "true crime") among tags, folded, sorted, distinct."""
    return sorted({" ".join(ws) for t in tags if len(ws := words(str(t))) > 1})


def entity_text(row: Mapping[str, Any], stop_words: Iterable[str] = ()) -> str:
    """The text an entity is embedded from (see the module docstring for fields and weights).

    Args:
        row: a catalog row with ``entity_type``, ``genres``, ``topics``, ``description`` and
            ``title``, ``artist``, ``album`` (missing or null fields count as empty).
        stop_words: words that do not count as content (a description of only these is none).

    Returns:
        Tags x ``TAG_WEIGHT``, description (less the entity's own name words) x
        ``DESCRIPTION_WEIGHT`` and type words x ``TYPE_WEIGHT``, space-separated, folded; ""
        when the entity has neither tags nor a description with content.
    """
    tags = " ".join(words(" ".join(_tags(row))))
    names = set(words(" ".join(str(row.get(f) or "") for f in ("title", "artist", "album")))) - set(tags.split())
    kept = [w for w in words(row.get("description") or "") if w not in names]
    stops = stop_words if isinstance(stop_words, frozenset) else frozenset(stop_words)
    if not tags and all(w in stops for w in kept):
        return ""
    description = " ".join(kept)
    type_words = TYPE_WORDS.get(str(row.get("entity_type") or ""), "")
    parts = [tags] * TAG_WEIGHT + [description] * DESCRIPTION_WEIGHT + [type_words] * TYPE_WEIGHT
    return " ".join(p for p in parts if p)


def _tags(row: Mapping[str, Any]) -> list[str]:
    return [str(t) for t in list(row.get("genres") or []) + list(row.get("topics") or []) if t]


def _rows_from(catalog: pa.Table | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(catalog, pa.Table):
        return catalog.select([c for c in _COLUMNS if c in catalog.column_names]).to_pylist()
    return [dict(r) for r in catalog]


def effective_dims(dims: int, n_entities: int, n_terms: int) -> int:
    """The number of SVD dimensions a catalog allows.

    Args:
        dims: requested dimensions.
        n_entities: entities with at least one term.
        n_terms: distinct terms.

    Returns:
        ``min(dims, n_terms - 1, n_entities)`` (at least 1), or 1 when there is a single term,
        0 when there is none.
    """
    if n_terms <= 0 or n_entities <= 0:
        return 0
    if n_terms == 1:
        return 1
    return max(1, min(int(dims), n_terms - 1, n_entities))


def fit_pipeline(
    texts: Sequence[str],
    *,
    dims: int = 64,
    seed: int = 0,
    analyzer: Analyzer | None = None,
) -> tuple[TfidfVectorizer | None, TruncatedSVD | None, scipy.sparse.csr_matrix | None]:
    """Fit the scikit-learn transform on entity texts (build time only).

    Args:
        texts: one text per entity (:func:`entity_text`).
        dims: requested SVD dimensions (reduced by :func:`effective_dims`).
        seed: ``random_state`` of the SVD.
        analyzer: the analyzer (``Analyzer.default()``, no phrases, when None).

    Returns:
        (vectorizer, svd, tfidf matrix). The vectorizer and matrix are None when the texts have
        no term at all; the svd is None then and also when there is a single term (the TF-IDF
        space is used as is).
    """
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(
        analyzer=Analyzer.default() if analyzer is None else analyzer,
        sublinear_tf=SUBLINEAR_TF,
        norm=TFIDF_NORM,
        smooth_idf=SMOOTH_IDF,
        dtype=np.float64,
    )
    try:
        matrix = vectorizer.fit_transform(list(texts)).tocsr()
    except ValueError as err:  # no entity has a term ("empty vocabulary")
        if "empty vocabulary" in str(err):
            return None, None, None
        raise
    n_entities = int((matrix.getnnz(axis=1) > 0).sum())
    k = effective_dims(dims, n_entities, matrix.shape[1])
    if matrix.shape[1] < 2:
        return vectorizer, None, matrix
    # ARPACK (exact, and faster than the randomized solver on a few hundred terms) needs
    # n_components < min(matrix.shape); the randomized solver covers tiny catalogs.
    algorithm = "arpack" if k < min(matrix.shape) else "randomized"
    svd = TruncatedSVD(n_components=k, algorithm=algorithm, random_state=seed)
    with np.errstate(invalid="ignore", divide="ignore"):  # explained variance ratio of 1 entity: 0/0
        svd.fit(matrix)
    return vectorizer, svd, matrix


def _normalise_rows(x: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    a.flags.writeable = False
    return a


class SemanticIndex:
    """LSA vectors of catalog entities (see the module docstring).

    Build with :meth:`build`, save with :meth:`save`, reopen with :meth:`open`, query with
    :meth:`search_rows` / :meth:`search`. Read-only after construction (thread-safe).

    Attributes:
        entity_ids: entity ids in catalog row order.
        dims: the dimensions of the vectors (the requested ``dims``, reduced for small catalogs).
    """

    def __init__(
        self,
        entity_ids: list[str],
        vocabulary: dict[str, int],
        idf: np.ndarray,
        components: np.ndarray,
        vectors: np.ndarray,
        params: dict[str, Any],
    ) -> None:
        n_terms = len(vocabulary)
        dims = int(params["dims"])
        idf = np.asarray(idf, dtype=np.float64)
        components = np.asarray(components, dtype=np.float32)
        vectors = np.asarray(vectors, dtype=np.float32)
        if idf.shape != (n_terms,) or components.shape != (dims, n_terms):
            shapes = f"idf {idf.shape}, components {components.shape}"
            raise ValueError(f"semantic index: {shapes} do not fit {n_terms} terms and {dims} dims")
        if vectors.shape != (len(entity_ids), dims):
            raise ValueError(f"semantic index: vectors {vectors.shape}, expected ({len(entity_ids)}, {dims})")
        if sorted(vocabulary.values()) != list(range(n_terms)):
            raise ValueError("semantic index: vocabulary columns are not 0..n_terms-1")
        self.entity_ids = entity_ids
        self.dims = dims
        self._vocabulary = dict(vocabulary)
        self._idf = _read_only(idf)
        self._components = _read_only(components)
        self._vectors = _read_only(vectors)
        self._params = dict(params)
        self._analyzer = Analyzer(params["stop_words"], params["phrases"])
        self._sublinear = bool(params["sublinear_tf"])
        self._norm = params["norm"]

    # ---- build / save / open ------------------------------------------------------------
    @classmethod
    def build(cls, catalog: pa.Table | Iterable[Mapping[str, Any]], *, dims: int = 64, seed: int = 0) -> SemanticIndex:
        """Embed a catalog.

        Args:
            catalog: an Arrow table with the ``catalog`` schema, or rows (mappings) with at least
                ``entity_id``; ``entity_type``, ``genres``, ``topics``, ``description`` are used
                when present.
            dims: requested dimensions (reduced when the catalog has too few terms or entities).
            seed: random state of the truncated SVD (same seed and catalog, same vectors).

        Returns:
            The index, ready to search.
        """
        if dims < 1:
            raise ValueError(f"dims must be >= 1, got {dims}")
        rows = _rows_from(catalog)
        entity_ids = [str(r["entity_id"]) for r in rows]
        analyzer = Analyzer.default(phrases_of(t for r in rows for t in _tags(r)))
        texts = [entity_text(r, analyzer.stop_words) for r in rows]
        vectorizer, svd, matrix = fit_pipeline(texts, dims=dims, seed=seed, analyzer=analyzer)
        if vectorizer is None or matrix is None:
            vocabulary: dict[str, int] = {}
            idf = np.zeros(0, dtype=np.float64)
            components = np.zeros((0, 0), dtype=np.float32)
            vectors = np.zeros((len(rows), 0), dtype=np.float32)
        else:
            vocabulary = {str(t): int(c) for t, c in vectorizer.vocabulary_.items()}
            idf = np.asarray(vectorizer.idf_, dtype=np.float64)
            if svd is None:  # a single term: the TF-IDF space itself
                components = np.eye(len(vocabulary), dtype=np.float64)
                reduced = matrix.toarray()
            else:
                components = np.asarray(svd.components_, dtype=np.float64)
                reduced = np.asarray(svd.transform(matrix), dtype=np.float64)
            vectors = _normalise_rows(reduced).astype(np.float32)
            components = components.astype(np.float32)
        params = {
            "format_version": FORMAT_VERSION,
            "dims": int(components.shape[0]),
            "requested_dims": int(dims),
            "seed": int(seed),
            "sublinear_tf": SUBLINEAR_TF,
            "norm": TFIDF_NORM,
            "smooth_idf": SMOOTH_IDF,
            "svd_algorithm": svd.algorithm if svd is not None else None,
            "n_entities": len(entity_ids),
            "n_entities_with_text": int(np.count_nonzero(np.abs(vectors).sum(axis=1) > 0)),
            "n_terms": len(vocabulary),
            "weights": {"tags": TAG_WEIGHT, "description": DESCRIPTION_WEIGHT, "type": TYPE_WEIGHT, "title": 0},
            "type_words": TYPE_WORDS,
            "stop_words": sorted(analyzer.stop_words),
            "phrases": sorted(" ".join(p) for p in analyzer.phrases),
            "plural_exceptions": sorted(PLURAL_EXCEPTIONS),
        }
        return cls(entity_ids, vocabulary, idf, components, vectors, params)

    def save(self, path: Path | str) -> None:
        """Write the index to a directory (created if needed; this index's files are replaced).

        Args:
            path: the directory; gets ``semantic.json``, ``entity_ids.json``, ``vocabulary.json``,
                ``idf.npy``, ``components.npy`` and ``vectors.npy`` (no pickles).
        """
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        np.save(path / "idf.npy", np.asarray(self._idf), allow_pickle=False)
        np.save(path / "components.npy", np.asarray(self._components), allow_pickle=False)
        np.save(path / "vectors.npy", np.asarray(self._vectors), allow_pickle=False)
        _write_json(path / "vocabulary.json", self._vocabulary)
        _write_json(path / "entity_ids.json", self.entity_ids)
        _write_json(path / "semantic.json", self._params, indent=2)

    @classmethod
    def open(cls, path: Path | str) -> SemanticIndex:
        """Open an index written by :meth:`save`.

        Args:
            path: the directory.

        Returns:
            The index (scikit-learn is not imported).

        Raises:
            ValueError: when the directory holds another format version or inconsistent files.
        """
        path = Path(path)
        params = json.loads((path / "semantic.json").read_text(encoding="utf-8"))
        if params.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: semantic index format {params.get('format_version')}, expected {FORMAT_VERSION}")
        return cls(
            entity_ids=[str(e) for e in json.loads((path / "entity_ids.json").read_text(encoding="utf-8"))],
            vocabulary=json.loads((path / "vocabulary.json").read_text(encoding="utf-8")),
            idf=np.load(path / "idf.npy", allow_pickle=False),
            components=np.load(path / "components.npy", allow_pickle=False),
            vectors=np.load(path / "vectors.npy", allow_pickle=False),
            params=params,
        )

    # ---- serving ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.entity_ids)

    def with_catalog(self, catalog: pa.Table | Iterable[Mapping[str, Any]]) -> SemanticIndex:
        """This model over another catalog snapshot (e.g. today's, with entities added since the build).

        Entities the index already has keep their vectors; new ones are folded in: their text
        (:func:`entity_text`) goes through this index's vocabulary, idf and components like a
        query (:meth:`encode`), so terms the model never saw are ignored. The model itself is
        unchanged: a nightly rebuild refits it on the whole catalog.

        Args:
            catalog: the snapshot (Arrow table or rows, as :meth:`build` takes).

        Returns:
            A new index over the snapshot's entities, in its row order.
        """
        rows = _rows_from(catalog)
        ids = [str(r["entity_id"]) for r in rows]
        known = {e: i for i, e in enumerate(self.entity_ids)}
        vectors = np.zeros((len(rows), self.dims), dtype=np.float32)
        for j, (entity, row) in enumerate(zip(ids, rows, strict=True)):
            i = known.get(entity)
            if i is not None:
                vectors[j] = self._vectors[i]
            elif self.dims:
                v = self.encode(entity_text(row, self._analyzer.stop_words))
                if v is not None:
                    vectors[j] = v
        params = {**self._params, "n_entities": len(ids)}
        return SemanticIndex(ids, self._vocabulary, self._idf, self._components, vectors, params)

    @property
    def vectors(self) -> np.ndarray:
        """The entity vectors (read-only float32, one unit or zero row per entity)."""
        return self._vectors

    @property
    def components(self) -> np.ndarray:
        """The SVD components (read-only float32, dims x terms)."""
        return self._components

    @property
    def analyzer(self) -> Analyzer:
        """The analyzer of entity texts and queries (stop words and phrases of the build)."""
        return self._analyzer

    def analyze(self, text: str) -> list[str]:
        """The terms of a text under this index's analyzer (known or not)."""
        return self._analyzer(text)

    def encode(self, query: str) -> np.ndarray | None:
        """Embed a query like an entity: TF-IDF of its known terms, SVD projection, unit length.

        Args:
            query: raw query text.

        Returns:
            A unit float32 vector of length ``dims``, or None when the query has no known term
            (or projects to zero).
        """
        counts = Counter(t for t in self.analyze(query) if t in self._vocabulary)
        if not counts:
            return None
        cols = np.fromiter((self._vocabulary[t] for t in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self._sublinear:
            tf = 1.0 + np.log(tf)
        x = tf * self._idf[cols]
        if self._norm == "l2":
            x /= math.sqrt(float(x @ x))
        elif self._norm == "l1":
            x /= float(np.abs(x).sum())
        z = self._components[:, cols].astype(np.float64) @ x
        norm = math.sqrt(float(z @ z))
        if not norm > 1e-12:
            return None
        return (z / norm).astype(np.float32)

    def search_rows(self, query: str, k: int) -> tuple[list[int], list[float]]:
        """The catalog rows nearest to a query.

        Args:
            query: raw query text.
            k: maximum number of rows.

        Returns:
            (rows, scores), best first: cosine similarities rounded to 6 decimals (Python
            floats), only those > 0, ties by row. Empty for k <= 0, an empty query or a query
            with no known term.
        """
        try:
            k = int(k)
        except (TypeError, ValueError, OverflowError):
            return [], []
        if k <= 0 or not len(self.entity_ids):
            return [], []
        q = self.encode(query)
        if q is None:
            return [], []
        scores = self._vectors @ q
        n = len(scores)
        if k < n:
            top = np.argpartition(scores, n - k)[n - k :]
            kth = scores[top].min()
            # Every row that can round to a score >= the k-th best: ties at the cut go by row.
            cand = np.flatnonzero(scores >= kth - _TIE_EPS)
        else:
            cand = np.arange(n)
        s = np.round(scores[cand].astype(np.float64), SCORE_DECIMALS)
        keep = s > 0
        cand, s = cand[keep], s[keep]
        order = np.lexsort((cand, -s))[:k]
        return cand[order].tolist(), s[order].tolist()

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` entities nearest to a query.

        Args:
            query: raw query text.
            k: maximum number of results.

        Returns:
            (entity_id, cosine score) pairs, best first.
        """
        rows, scores = self.search_rows(query, k)
        return [(self.entity_ids[r], s) for r, s in zip(rows, scores, strict=True)]


def _write_json(path: Path, value: Any, indent: int | None = None) -> None:
    text = json.dumps(value, indent=indent, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
