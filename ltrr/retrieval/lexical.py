"""Lexical retrieval: BM25 over entity fields with typo tolerance, on a tantivy index.

Fields and weights (``FIELD_BOOSTS``): title 3, artist 2, album 1, tags (genres, moods and
topics) 1, description 0.5. Text is split on non-alphanumerics, lower-cased and accent-folded
("Beyoncé" matches "beyonce"); words in other scripts are kept whole.

English stop words are dropped.

A query is the sum over its words of (a) BM25 of the word in every field, times the field's
boost, and (b) for a word of 4+ Latin letters that occurs in no title and no artist name (a
likely typo: "tayler"), a fuzzy match on title and artist (Levenshtein distance 1 for words
of 4-7 letters, 2 for 8+, a transposition counting as one edit). tantivy scores fuzzy matches
with a constant, so (b) adds ``FUZZY_BOOST`` per matched field. Ties are broken by catalog
order so results are deterministic.

The index lives in memory, or in a directory (``path``) next to ``entity_ids.txt`` and
``lexical.json`` so it can be shipped in a bundle and opened with :meth:`LexicalIndex.open`.
A saved index is byte-reproducible: tantivy names a segment by a random UUID (in its file
names, ``meta.json`` and ``.managed.json``), while the segment files' contents are identical
between builds of the same catalog, so after the build each segment is renamed to a digest
of its own contents and ``.managed.json`` is written sorted. A bundle holds the segment files,
``meta.json``, ``entity_ids.txt`` and ``lexical.json`` (dotfiles such as tantivy's lock files
are not collected); tantivy writes a lock file into the folder it opens, so serving opens a
private copy (``open(path, private_copy=True)``) and the verified bundle never changes.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import tantivy

FIELD_BOOSTS: dict[str, float] = {"title": 3.0, "artist": 2.0, "album": 1.0, "tags": 1.0, "description": 0.5}
FUZZY_FIELDS: tuple[str, ...] = ("title", "artist")
FUZZY_BOOST = 1.5
FUZZY_MIN_LEN = 4
FUZZY_TWO_EDITS_LEN = 8
TOKENIZER = "ltrr_folded"
FORMAT_VERSION = 1
_ROW_FIELD = "row"


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.ascii_fold())
        .filter(tantivy.Filter.stopword("english"))
        .build()
    )


def _schema() -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field(_ROW_FIELD, stored=False, indexed=False, fast=True)
    for name in FIELD_BOOSTS:
        builder.add_text_field(name, stored=False, tokenizer_name=TOKENIZER)
    return builder.build()


def _rows_from(catalog: pa.Table | Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    if isinstance(catalog, pa.Table):
        cols = [
            c
            for c in ("entity_id", "title", "artist", "album", "genres", "topics", "description")
            if c in catalog.column_names
        ]
        return catalog.select(cols).to_pylist()
    return [dict(r) for r in catalog]


def _canonical_segment_ids(path: Path) -> None:
    """Rename every segment of a saved index to a digest of its files' contents (see module docstring)."""
    meta_path, managed_path = path / "meta.json", path / ".managed.json"
    meta_text = meta_path.read_text(encoding="utf-8")
    managed = json.loads(managed_path.read_text(encoding="utf-8")) if managed_path.is_file() else []
    for segment in json.loads(meta_text)["segments"]:
        old = segment["segment_id"]
        old_hex = old.replace("-", "")
        files = sorted(path.glob(f"{old_hex}.*"))
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.suffix.encode() + hashlib.sha256(f.read_bytes()).digest())
        new_hex = digest.hexdigest()[:32]
        new = f"{new_hex[:8]}-{new_hex[8:12]}-{new_hex[12:16]}-{new_hex[16:20]}-{new_hex[20:]}"
        for f in files:
            f.rename(path / f"{new_hex}{f.suffix}")
        meta_text = meta_text.replace(old, new)
        managed = [name.replace(old_hex, new_hex) for name in managed]
    meta_path.write_text(meta_text, encoding="utf-8")
    if managed_path.is_file():
        managed_path.write_text(json.dumps(sorted(managed)), encoding="utf-8")


class LexicalIndex:
    """A BM25 index over catalog entities (see the module docstring).

    Build with :meth:`build`, reopen a saved one with :meth:`open`, query with :meth:`search`.
    """

    def __init__(self, index: tantivy.Index, entity_ids: list[str]) -> None:
        self._index = index
        self._index.register_tokenizer(TOKENIZER, _analyzer())
        self._analyzer = _analyzer()
        self._schema = index.schema
        self._searcher = index.searcher()
        self.entity_ids = entity_ids

    @classmethod
    def build(cls, catalog: pa.Table | Iterable[Mapping[str, Any]], path: Path | str | None = None) -> LexicalIndex:
        """Index a catalog.

        Args:
            catalog: an Arrow table with the ``catalog`` schema, or rows (mappings) with at
                least ``entity_id`` and ``title``; ``artist``, ``album``, ``genres``, ``topics``,
                ``description`` are used when present.
            path: a new (or empty) directory to keep the index in; in memory when None.

        Returns:
            The index, ready to search.
        """
        rows = _rows_from(catalog)
        schema = _schema()
        if path is not None:
            path = Path(path)
            path.mkdir(parents=True, exist_ok=True)
            if any(path.iterdir()):
                raise FileExistsError(f"lexical index directory {path} is not empty")
            index = tantivy.Index(schema, path=str(path), reuse=False)
        else:
            index = tantivy.Index(schema)
        index.register_tokenizer(TOKENIZER, _analyzer())
        # One indexing thread: documents keep catalog order (deterministic ties, one segment).
        writer = index.writer(heap_size=128_000_000, num_threads=1)
        entity_ids = []
        for i, row in enumerate(rows):
            tags = " ".join(list(row.get("genres") or []) + list(row.get("topics") or []))
            doc = tantivy.Document()
            doc.add_unsigned(_ROW_FIELD, i)
            doc.add_text("title", row.get("title") or "")
            doc.add_text("artist", row.get("artist") or "")
            doc.add_text("album", row.get("album") or "")
            doc.add_text("tags", tags)
            doc.add_text("description", row.get("description") or "")
            writer.add_document(doc)
            entity_ids.append(str(row["entity_id"]))
        writer.commit()
        writer.wait_merging_threads()
        index.reload()
        if path is not None:
            del writer, index
            _canonical_segment_ids(path)
            index = tantivy.Index.open(str(path))
            (path / "entity_ids.txt").write_text("\n".join(entity_ids) + "\n", encoding="utf-8")
            meta = {
                "format_version": FORMAT_VERSION,
                "tantivy": tantivy.__version__,
                "documents": len(entity_ids),
                "field_boosts": FIELD_BOOSTS,
                "fuzzy_fields": list(FUZZY_FIELDS),
                "fuzzy_boost": FUZZY_BOOST,
            }
            (path / "lexical.json").write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return cls(index, entity_ids)

    @classmethod
    def open(cls, path: Path | str, *, private_copy: bool = False) -> LexicalIndex:
        """Open an index saved by :meth:`build` with a ``path``.

        Args:
            path: the index folder.
            private_copy: open a private temporary copy instead of the folder itself. tantivy
                creates a lock file in the folder it opens, and a verified bundle must not gain
                files (its next verification would fail); serving from a bundle sets this. The
                copy is deleted when the index is garbage-collected (or at exit).

        Raises:
            ValueError: when the directory holds an index of another format version.
        """
        path = Path(path)
        meta = json.loads((path / "lexical.json").read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION:
            raise ValueError(f"{path}: lexical index format {meta.get('format_version')}, expected {FORMAT_VERSION}")
        ids = (path / "entity_ids.txt").read_text(encoding="utf-8").splitlines()
        if not private_copy:
            return cls(tantivy.Index.open(str(path)), ids)
        copy = Path(tempfile.mkdtemp(prefix="ltrr-lexical-"))
        try:
            for f in path.iterdir():
                if f.is_file() and not f.name.startswith("."):
                    shutil.copyfile(f, copy / f.name)
            index = cls(tantivy.Index.open(str(copy)), ids)
        except BaseException:
            shutil.rmtree(copy, ignore_errors=True)
            raise
        weakref.finalize(index, shutil.rmtree, str(copy), True)
        return index

    def __len__(self) -> int:
        return len(self.entity_ids)

    def analyze(self, text: str) -> list[str]:
        """The index terms of a text (split, lower-cased, accent-folded)."""
        return self._analyzer.analyze(text)

    def _query(self, terms: list[str]) -> tantivy.Query:
        Q, should = tantivy.Query, tantivy.Occur.Should
        per_term = []
        for term in dict.fromkeys(terms):
            clauses = [(should, Q.boost_query(Q.term_query(self._schema, f, term), b)) for f, b in FIELD_BOOSTS.items()]
            if len(term) >= FUZZY_MIN_LEN and term.isascii() and not self._known(term):
                distance = 2 if len(term) >= FUZZY_TWO_EDITS_LEN else 1
                for f in FUZZY_FIELDS:
                    fuzzy = Q.fuzzy_term_query(self._schema, f, term, distance=distance, transposition_cost_one=True)
                    clauses.append((should, Q.boost_query(fuzzy, FUZZY_BOOST)))
            per_term.append((should, Q.boolean_query(clauses)))
        return Q.boolean_query(per_term)

    def _known(self, term: str) -> bool:
        """Whether a term occurs exactly in a title or artist name (then no fuzzy expansion)."""
        return any(self._searcher.doc_freq(f, term) > 0 for f in FUZZY_FIELDS)

    def search_rows(self, query: str, budget: int) -> tuple[list[int], list[float]]:
        """Like :meth:`search`, returning catalog row numbers instead of ids."""
        terms = self.analyze(query)
        if not terms or budget <= 0:
            return [], []
        # Over-fetch a little so that ties at the cut are broken by row, not by tantivy order.
        hits = self._searcher.search(self._query(terms), limit=budget + 16, count=False).hits
        if not hits:
            return [], []
        rows = np.asarray(self._searcher.fast_field_values(_ROW_FIELD, [addr for _, addr in hits]), dtype=np.int64)
        scores = np.round(np.asarray([s for s, _ in hits], dtype=np.float64), 6)
        order = np.lexsort((rows, -scores))[:budget]
        return rows[order].tolist(), scores[order].tolist()

    def search(self, query: str, budget: int) -> list[tuple[str, float]]:
        """The best ``budget`` entities for a query.

        Args:
            query: raw query text (empty or all-punctuation queries return nothing).
            budget: maximum number of results.

        Returns:
            (entity_id, score) pairs, best first; scores are BM25 sums (higher is better).
        """
        rows, scores = self.search_rows(query, budget)
        ids = self.entity_ids
        return [(ids[r], s) for r, s in zip(rows, scores, strict=True)]
