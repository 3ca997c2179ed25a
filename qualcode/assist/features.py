"""What the suggestion model reads of a segment: lemmas and lemma bigrams, then TF-IDF weights.

A segment's features are the lemmas of its word tokens (``assist.language``: spaCy's blank English
pipeline with its lookup lemmatizer, offline), lower case, without stop words, numbers, e-mail
addresses and URLs, plus the bigrams of adjacent kept lemmas (``"protect time"``). Learning uses
scikit-learn's ``TfidfVectorizer`` on those lists; suggesting uses :class:`Weights`, the same
transform written out in numpy from the stored vocabulary and idf, so a stored model needs
neither scikit-learn nor a pickle to run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from .language import Token, lemmatizer_name, pipe_tokens

FEATURES = "lemmas+bigrams"
FEATURES_TEXT = "word lemmas (stop words removed) and lemma bigrams, TF-IDF weighted (sublinear tf, l2 norm)"
MIN_DF = 2  # a feature must occur in two training segments
MAX_FEATURES = 20000


def token_features(tokens: Sequence[Token]) -> list[str]:
    """Lemmas of a segment's content words, then the bigrams of adjacent ones."""
    kept = [
        t.lemma
        for t in tokens
        if t.is_alpha and not t.is_stop and len(t.lemma) > 1 and not (t.like_num or t.like_email or t.like_url)
    ]
    return kept + [f"{a} {b}" for a, b in pairwise(kept)]


def text_features(texts: Iterable[str]) -> list[list[str]]:
    """``token_features`` of many texts, tokenized in one spaCy pass."""
    return [token_features(tokens) for tokens in pipe_tokens(texts)]


def lemmatizer() -> str:
    """The lemmatizer in use, for the methods paragraph."""
    return lemmatizer_name()


def _identity(features: list[str]) -> list[str]:
    return features


def fit_vectorizer(features: list[list[str]]) -> Weights:
    """Learn the vocabulary and idf (scikit-learn), kept as plain arrays."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    min_df = MIN_DF if len(features) >= 2 * MIN_DF else 1
    vectorizer = TfidfVectorizer(
        analyzer=_identity, min_df=min_df, max_features=MAX_FEATURES, sublinear_tf=True, norm="l2"
    )
    try:
        vectorizer.fit(features)
    except ValueError:  # no feature at all (every text empty, or all gibberish once)
        return Weights([], np.zeros(0))
    vocabulary = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    return Weights(vocabulary, np.asarray(vectorizer.idf_, dtype=float))


@dataclass
class Weights:
    """TF-IDF as scikit-learn computes it (sublinear tf, smooth idf, l2 norm), from stored arrays."""

    vocabulary: list[str]
    idf: np.ndarray

    def __post_init__(self) -> None:
        self.index = {term: i for i, term in enumerate(self.vocabulary)}

    def transform(self, features: list[list[str]]):  # -> scipy.sparse.csr_matrix
        """Rows of l2-normalised TF-IDF weights; a text with no known feature is a row of zeros."""
        from scipy.sparse import csr_matrix  # type: ignore[import-untyped]

        indptr, indices, values = [0], [], []
        for terms in features:
            counts: dict[int, int] = {}
            for term in terms:
                i = self.index.get(term)
                if i is not None:
                    counts[i] = counts.get(i, 0) + 1
            cols = sorted(counts)
            row = np.array([(1.0 + np.log(counts[c])) * self.idf[c] for c in cols], dtype=float)
            norm = float(np.sqrt((row**2).sum())) if row.size else 0.0
            indices.extend(cols)
            values.extend((row / norm).tolist() if norm > 0 else row.tolist())
            indptr.append(len(indices))
        return csr_matrix(
            (np.array(values, dtype=float), np.array(indices, dtype=np.int64), np.array(indptr, dtype=np.int64)),
            shape=(len(features), len(self.vocabulary)),
        )

    def known(self, features: list[str]) -> int:
        """How many of a text's features the vocabulary knows (0: nothing to go on)."""
        return sum(1 for term in features if term in self.index)
