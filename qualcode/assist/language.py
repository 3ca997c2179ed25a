"""The one offline English pipeline of assisted coding (search, suggestions, de-identification).

``english()`` is a blank spaCy English pipeline (the rule tokenizer, no trained model) with a
lemmatizer whose table is spaCy's own English lookup table from the ``spacy-lookups-data`` package
(installed with qualcode): ``teaching``, ``taught`` and ``teaches`` all become ``teach``. Words are
looked up lower-cased, so a lemma is always lower case (``Teachers`` → ``teacher``). Nothing here
downloads anything: the table ships inside the installed package.

If ``spacy-lookups-data`` is missing (an unusual install), a small rule lemmatizer takes its place
(common irregular verbs and nouns, then English suffix rules: ``-ies``, ``-es``, ``-s``, ``-ing``,
``-ed``). It is cruder than the table and says so: ``LEMMATIZER`` / ``lemmatizer_name()`` names the
one in use, for a methods paragraph.

spaCy is imported inside the functions (``qualcode --help`` must not pay for it).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language
    from spacy.tokens import Doc
    from spacy.tokens import Token as SpacyToken

LOOKUP_TABLE = "spacy-lookups-data (English lemma_lookup table)"
RULES = "qualcode rules (irregular forms and suffix rules)"
COMPONENT = "qualcode_lemmas"


@dataclass(frozen=True, slots=True)
class Token:
    """One token of a text: ``text[start:end] == token.text``."""

    text: str
    start: int
    end: int
    lemma: str  # lower case
    is_alpha: bool
    is_punct: bool
    is_space: bool
    is_stop: bool
    like_num: bool
    like_email: bool
    like_url: bool


# --- the lemma table -------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _table() -> tuple[str, Callable[[str], str], dict[str, str] | None]:
    """(name, lookup, table) of the lemmatizer in use: spaCy's English lookup table if installed
    (``{form: lemma}``, the lower-case forms), else the rules (and no table)."""
    try:
        import spacy_lookups_data  # type: ignore[import-untyped]

        path = Path(str(spacy_lookups_data.en["lemma_lookup"]))  # stored gzipped beside the name it gives
        gz = path.with_name(path.name + ".gz")
        with gzip.open(gz, "rt", encoding="utf-8") if gz.exists() else open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    except (ImportError, AttributeError, KeyError, OSError, ValueError):  # the data package is not installed
        return RULES, _rule_lemma, None
    table = {form: str(lemma_).lower() for form, lemma_ in raw.items() if form == form.lower()}

    def lookup(word: str) -> str:
        return table.get(word, word)  # a word not in the table is its own lemma

    return LOOKUP_TABLE, lookup, table


def lemmatizer_name() -> str:
    """Which lemmatizer ``lemma`` uses (``LOOKUP_TABLE`` or ``RULES``)."""
    return _table()[0]


def forms_of_prefix(prefix: str) -> frozenset[str] | None:
    """Every lower-case word whose lemma starts with ``prefix`` (``None`` with the rules)."""
    table = _table()[2]
    if table is None:
        return None
    return frozenset(form for form, lemma_ in table.items() if lemma_.startswith(prefix))


def forms_of(lemma_: str) -> frozenset[str] | None:
    """Every lower-case word whose lemma is ``lemma_`` (the lemma itself included), from the lookup
    table; ``None`` with the rule lemmatizer, whose forms cannot be listed. A search looks for these
    words instead of lemmatizing every token of every text."""
    table = _table()[2]
    if table is None:
        return None
    return frozenset(form for form, lemma2 in table.items() if lemma2 == lemma_) | {lemma_}


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The lemma of one word, lower case (``Taught`` → ``teach``)."""
    lowered = word.lower()
    if not lowered or not any(c.isalpha() for c in lowered):
        return lowered
    return _table()[1](lowered)


# Irregular forms the rules cannot reach (used only without the lookup table).
_IRREGULAR = {
    "am": "be",
    "is": "be",
    "are": "be",
    "was": "be",
    "were": "be",
    "been": "be",
    "being": "be",
    "has": "have",
    "had": "have",
    "having": "have",
    "does": "do",
    "did": "do",
    "done": "do",
    "went": "go",
    "gone": "go",
    "goes": "go",
    "taught": "teach",
    "thought": "think",
    "brought": "bring",
    "bought": "buy",
    "caught": "catch",
    "sought": "seek",
    "said": "say",
    "made": "make",
    "took": "take",
    "taken": "take",
    "came": "come",
    "saw": "see",
    "seen": "see",
    "knew": "know",
    "known": "know",
    "got": "get",
    "gotten": "get",
    "gave": "give",
    "given": "give",
    "felt": "feel",
    "left": "leave",
    "kept": "keep",
    "told": "tell",
    "found": "find",
    "meant": "mean",
    "wrote": "write",
    "written": "write",
    "spoke": "speak",
    "spoken": "speak",
    "began": "begin",
    "begun": "begin",
    "ran": "run",
    "led": "lead",
    "learnt": "learn",
    "children": "child",
    "people": "person",
    "men": "man",
    "women": "woman",
    "mice": "mouse",
    "feet": "foot",
    "teeth": "tooth",
    "better": "good",
    "best": "good",
    "worse": "bad",
    "worst": "bad",
}
_VOWELS = set("aeiou")


def _rule_lemma(word: str) -> str:
    """A small, honest English rule lemmatizer (the fallback without the lookup table)."""
    if word in _IRREGULAR:
        return _IRREGULAR[word]
    if len(word) <= 3:
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith(("sses", "shes", "ches", "xes", "zes")):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            stem = word[: -len(suffix)]
            if not any(c in _VOWELS for c in stem):
                return word
            if len(stem) >= 2 and stem[-1] == stem[-2] and stem[-1] not in "lsz":
                return stem[:-1]  # running → run, stopped → stop
            if stem.endswith("i") and suffix == "ed":
                return stem[:-1] + "y"  # tried → try
            if (
                len(stem) >= 3
                and stem[-1] not in _VOWELS | {"w", "x", "y"}
                and stem[-2] in _VOWELS
                and stem[-3] not in _VOWELS
            ):
                return stem + "e"  # making → make, hoped → hope
            return stem
    return word


# --- the pipeline --------------------------------------------------------------------------


@lru_cache(maxsize=1)
def english() -> Language:
    """The shared blank English pipeline with the lower-case lemmatizer (cached; offline).

    Add pipes to a copy (``spacy.blank`` + your own), not to this one: every caller shares it.
    """
    import spacy
    from spacy.language import Language

    if not Language.has_factory(COMPONENT):

        @Language.component(COMPONENT)
        def _set_lemmas(doc: Doc) -> Doc:
            for token in doc:
                token.lemma_ = lemma(token.text)
            return doc

    nlp = spacy.blank("en")
    nlp.add_pipe(COMPONENT)
    return nlp


def _token(t: SpacyToken) -> Token:
    return Token(
        text=t.text,
        start=t.idx,
        end=t.idx + len(t.text),
        lemma=t.lemma_,
        is_alpha=t.is_alpha,
        is_punct=t.is_punct,
        is_space=t.is_space,
        is_stop=t.is_stop,
        like_num=t.like_num,
        like_email=t.like_email,
        like_url=t.like_url,
    )


def tokens(text: str) -> list[Token]:
    """The tokens of ``text`` with character offsets and lemmas (whitespace tokens left out)."""
    return [_token(t) for t in english()(text) if not t.is_space]


def pipe_tokens(texts: Iterable[str], batch_size: int = 256) -> Iterator[list[Token]]:
    """``tokens`` of many texts, in one pass through spaCy (faster than one call each)."""
    for doc in english().pipe(texts, batch_size=batch_size):
        yield [_token(t) for t in doc if not t.is_space]


def lemmas(text: str) -> list[str]:
    """The lemmas of the word tokens of ``text`` (punctuation and spaces left out), lower case."""
    return [t.lemma for t in tokens(text) if not (t.is_punct or t.is_space)]
