"""The text index behind `matcher.extraction.extract`: ESCO labels as TF-IDF character n-grams.

Why character n-grams
---------------------
Ads are short, informal and (here) often Danish. Danish glues words together
("butiksmedhjælper", "bagerimedarbejder") and inflects them ("bageriet",
"kassen"), so whole-word matching misses most of what a reader sees at once.
Character 3-5-grams inside word boundaries (`char_wb`) share most grams between
"bager", "bageri" and "bageriets", and between "kassemedarbejder" and
"kasseassistent", with no stemmer or compound splitter per language. TF-IDF
down-weights grams that every label has ("arbejd", "medar"). It needs no
model weights, builds in about a second over ESCO's ~75k labels, and a query
is one sparse matrix product.

Rows and concepts
-----------------
Every label (preferred, alt, hidden), description and "group" label (the ISCO
group an occupation belongs to) is its own row, with a weight by kind. A
concept's score for a query is the best weight x cosine over its rows: a short
title should match one good label, not the average of thirty alternatives.
Rows are stored sorted by concept so that "best row per concept" is one
`np.maximum.reduceat` over the dense query x row product.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

# Weight of a row by the kind of text it holds: the queried label outranks a
# neighbouring concept's description that happens to share words.
ROW_WEIGHT: dict[str, float] = {
    "preferred": 1.0,
    "alt": 0.97,
    "hidden": 0.9,
    "description": 0.8,
    "group": 0.7,
}


_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class Row:
    """One piece of text that points at a concept (by position in the index)."""

    concept: int
    kind: str
    text: str
    factor: float = 1.0  # times the kind's weight (e.g. a label in another language)


class GramVocab:
    """Character n-grams inside word boundaries (scikit-learn's `char_wb`), per word.

    char_wb n-grams never cross a word boundary, so a text's counts are the sum
    of its words' counts. Each distinct word is cut into n-grams once (ESCO has
    ~35k distinct words in ~80k labels and descriptions), a text becomes a row
    of word counts, and (texts x words) @ (words x grams) is one sparse product
    in C instead of a Python loop over ~20M n-grams: ~10x faster than
    `TfidfVectorizer(analyzer="char_wb")` with the same features. One vocabulary
    is shared by all indexes, so a query is cut into n-grams once.
    """

    def __init__(self, texts: Sequence[str], ngram_range: tuple[int, int] = (3, 5)):
        """Learn the words and n-grams of `texts` (all the text the indexes will hold)."""
        self.ngram_range = ngram_range
        self.ids: dict[str, int] = {}
        self._words: dict[str, int] = {}
        self._text_words: dict[str, list[int]] = {}
        grams: list[list[int]] = []
        for text in texts:
            if text in self._text_words:
                continue
            ids = []
            for word in _WORD.findall(text.lower()):
                wid = self._words.get(word)
                if wid is None:
                    wid = self._words[word] = len(self._words)
                    grams.append(self._cut(word, grow=True))
                ids.append(wid)
            self._text_words[text] = ids
        self._by_word = self._matrix(grams)

    @property
    def n_grams(self) -> int:
        return len(self.ids)

    def _cut(self, word: str, grow: bool) -> list[int]:
        padded = f" {word} "
        lo, hi = self.ngram_range
        grams = [padded[i : i + n] for n in range(lo, hi + 1) for i in range(len(padded) - n + 1)]
        if grow:
            ids = self.ids
            return [ids.setdefault(g, len(ids)) for g in grams]
        return [i for i in map(self.ids.get, grams) if i is not None]

    def _matrix(self, grams: Sequence[Sequence[int]]) -> sparse.csr_matrix:
        """(words x grams) counts from each word's n-gram ids."""
        rows = np.repeat(np.arange(len(grams)), [len(g) for g in grams])
        cols = np.fromiter((g for gs in grams for g in gs), dtype=np.int64, count=rows.size)
        ones = np.ones(rows.size, dtype=np.float32)
        return sparse.csr_matrix((ones, (rows, cols)), shape=(len(grams), len(self.ids)))

    def counts(self, texts: Sequence[str]) -> sparse.csr_matrix:
        """(texts x grams) n-gram counts; n-grams never learnt are dropped."""
        known: list[int] = []
        k_rows: list[int] = []
        new: dict[str, int] = {}
        n_rows: list[int] = []
        n_cols: list[int] = []
        for row, text in enumerate(texts):
            ids = self._text_words.get(text)
            if ids is not None:
                known.extend(ids)
                k_rows.extend([row] * len(ids))
                continue
            for word in _WORD.findall(text.lower()):
                wid = self._words.get(word)
                if wid is not None:
                    known.append(wid)
                    k_rows.append(row)
                else:
                    n_rows.append(row)
                    n_cols.append(new.setdefault(word, len(new)))
        out = _ones((k_rows, known), (len(texts), len(self._words))) @ self._by_word
        if new:
            by_new = self._matrix([self._cut(w, grow=False) for w in new])
            out = out + _ones((n_rows, n_cols), (len(texts), len(new))) @ by_new
        return sparse.csr_matrix(out)


def _ones(coords: tuple[list[int], list[int]], shape: tuple[int, int]) -> sparse.csr_matrix:
    return sparse.csr_matrix((np.ones(len(coords[0]), dtype=np.float32), coords), shape=shape)


def tfidf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear tf x idf, rows L2-normalised (in place on `counts`)."""
    x = counts
    x.data = (1.0 + np.log(x.data)) * idf[x.indices]
    row = np.repeat(np.arange(x.shape[0]), np.diff(x.indptr))
    norms = np.sqrt(np.bincount(row, weights=x.data * x.data, minlength=x.shape[0]))
    norms[norms == 0] = 1.0
    x.data = (x.data / norms[row]).astype(np.float32)
    return x


class LabelIndex:
    """Concepts of one kind in one language, searchable by free text."""

    def __init__(self, n_concepts: int, rows: Sequence[Row], vocab: GramVocab):
        self.n_concepts = n_concepts
        self._vocab = vocab
        rows = sorted(rows, key=lambda r: r.concept)
        counts = vocab.counts([r.text for r in rows])
        df = np.bincount(counts.indices, minlength=counts.shape[1])
        self._idf = (np.log((1 + counts.shape[0]) / (1 + df)) + 1).astype(np.float32)
        self._matrix = tfidf(counts, self._idf)
        self._weight = np.asarray(
            [ROW_WEIGHT.get(r.kind, 0.5) * r.factor for r in rows], dtype=np.float32
        )
        concepts = np.asarray([r.concept for r in rows], dtype=np.int64)
        # Start of each concept's run of rows (reduceat segments) and which concept it is.
        self._heads, self._starts = np.unique(concepts, return_index=True)
        self._matrix_t = sparse.csr_matrix(self._matrix.T)
        # Squared weights: a row's entries sum to 1, so a query's presence
        # vector times this is the share of the row's mass the query contains.
        self._squared_t = sparse.csr_matrix(self._matrix.multiply(self._matrix).T)

    @property
    def n_rows(self) -> int:
        return int(self._matrix.shape[0])

    def scores(self, queries: Sequence[str], containment: float = 0.0) -> np.ndarray:
        """(len(queries), n_concepts) best weighted similarity per concept, in [0, 1].

        Similarity is cosine, mixed with `containment` x (share of the row's
        n-gram mass found in the query): a sentence that contains a short label
        ("... at the cash register ...") has a low cosine with it, but contains it.
        """
        out = np.zeros((len(queries), self.n_concepts), dtype=np.float32)
        if not queries or self.n_rows == 0:
            return out
        q = tfidf(self._vocab.counts(queries), self._idf)
        sims = (q @ self._matrix_t).toarray()
        if containment > 0:
            q.data[:] = 1.0
            sims *= 1.0 - containment
            sims += containment * (q @ self._squared_t).toarray()
        sims *= self._weight
        out[:, self._heads] = np.maximum.reduceat(sims, self._starts, axis=1)
        return out
