"""De-identification: find names, places, schools, emails, phone numbers and dates in transcripts,
and keep the lead's decisions on them (``qc_deid_term``: text, kind, pseudonym, decision, origin).

Where findings come from (``origin``):

- ``roster``: the project's own identifiers. Speaker labels that look like names (``Gloria Anaya``,
  not ``P1``, ``Speaker 2`` or ``Interviewer``) and their parts (``Gloria``, ``Anaya``); case names
  and, for a school (``Birchwood Elementary``), the name before the school word (``Birchwood``);
  text-valued case attributes written as proper nouns (``Harlow Valley Unified``).
- ``list``: a file of terms the lead supplies (``--list FILE``: one term a line, optionally
  ``TERM | KIND``).
- ``rule``: spaCy ``Matcher`` patterns on the blank English pipeline (``assist.language.english``):
  emails (spaCy's ``like_email``), schools (``Lincoln High School``, ``Northgate STEM Academy``),
  a title and a capitalised name (``Mrs. Alvarez``: the finding is the name), dates written with a
  month name (``March 3, 2021``, ``3 March 2021``, ``March 2021``); and regular expressions for what
  the rule tokenizer splits apart: phone numbers (``(555) 123-4567``, ``555-123-4567``,
  ``+44 20 7946 0958``, ``020 7946 0958``) and numeric dates (``2021-03-03``, ``03/03/2021``).
- ``entity``: a trained spaCy pipeline's named entities, when one is installed
  (``en_core_web_sm``/``md``/``lg``); never downloaded.

Every finding is one row per distinct (text, kind); occurrence counts are computed when asked
(``list_terms``), never stored. The mapping is the lead's: every function here but
``term_rules`` refuses anyone else (``BlindingError``). Audit events name a term by its id, never
its text, so the trail does not spread the identifiers it protects.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from ..coding.blinding import require_lead
from ..errors import InputError, QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.enums import DeidDecision
from ..store.models import Case, CaseAttribute, DeidTerm, Speaker, Transcript

if TYPE_CHECKING:  # pragma: no cover
    from spacy.language import Language

KINDS = ("name", "place", "school", "email", "phone", "date", "other")
ORIGINS = ("roster", "list", "rule", "entity")
ENTITY_MODELS = ("en_core_web_sm", "en_core_web_md", "en_core_web_lg", "en_core_web_trf")
WHAT = "de-identification"  # the lead-only refusal names it

# Kinds whose text is matched whatever its case (an email is the same in capitals); names, places and
# schools are matched as written, so "Grant" the teacher does not swallow "a grant".
CASELESS_KINDS = frozenset({"email", "phone", "date"})

SCHOOL_WORDS = frozenset(
    {
        "elementary", "middle", "high", "academy", "school", "primary", "secondary", "college",
        "university", "institute", "charter", "prep", "preparatory", "montessori", "kindergarten",
    }
)  # fmt: skip
# Speaker labels that name a role or a number, not a person.
GENERIC_LABEL_WORDS = frozenset(
    {
        "interviewer", "interviewee", "moderator", "facilitator", "participant", "respondent", "speaker",
        "teacher", "coach", "principal", "administrator", "admin", "student", "parent", "unknown",
        "researcher", "observer", "other", "voice", "audience", "group", "all", "several", "multiple",
        "staff", "member", "person", "host", "guest", "assistant", "director", "coordinator", "chair",
    }
)  # fmt: skip
NOT_NAME_PARTS = GENERIC_LABEL_WORDS | {
    "mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "madam", "dame", "rev", "sr", "jr",
}  # fmt: skip
TITLES = (
    "Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Principal", "Coach", "Superintendent",
    "Dean", "Sister", "Father", "Rev", "Sr", "Fr",
)  # fmt: skip
MONTHS = (
    "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov",
    "dec",
)  # fmt: skip
ROLE_LABELS = {
    "teacher": "Teacher",
    "coach": "Coach",
    "administrator": "Administrator",
    "interviewer": "Interviewer",
    "moderator": "Interviewer",
    "participant": "Participant",
}
FIXED_PSEUDONYMS = {"email": "[email]", "phone": "[phone]", "date": "[date]"}
NUMBERED_PREFIX = {"school": "School", "place": "Place", "other": "Redacted"}

PHONE = re.compile(
    r"""(?<![\w+/.-])(?:
        \+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]\d{2,8}){1,4}   # +44 20 7946 0958, +1 (555) 123-4567
      | \(\d{3}\)[ .-]?\d{3}[ .-]\d{4}                                      # (555) 123-4567
      | \d{3}([.-])\d{3}\1\d{4}                                             # 555-123-4567, 555.123.4567
      | \d{3}\ \d{3}\ \d{4}                                                 # 555 123 4567
      | 0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}                                     # 020 7946 0958, 07700 900123
      | \d{3}-\d{4}                                                         # 555-1234
    )(?![\w/-]|\.\d)""",
    re.X,
)
NUMERIC_DATE = re.compile(
    r"(?<![\w/.-])(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}/\d{1,2}/(?:\d{4}|\d{2})|\d{1,2}\.\d{1,2}\.\d{4}|\d{1,2}-\d{1,2}-\d{4})"
    r"(?![\w/-]|\.\d)"
)


# --- results -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Candidate:
    """A term to consider, with the pseudonym it would be proposed with ("" = by its kind)."""

    text: str
    kind: str
    origin: str
    pseudonym: str = ""
    role: str = ""  # a speaker's role, for "[Teacher A]"


@dataclass(frozen=True, slots=True)
class Finding:
    """One place in a text where a rule or a trained pipeline saw an identifier."""

    text: str
    kind: str
    origin: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TermView:
    """One term of the review list, with its occurrences counted now."""

    id: int
    text: str
    kind: str
    pseudonym: str
    decision: str
    origin: str
    count: int
    contexts: tuple[str, ...]
    decided_by: str


@dataclass(frozen=True, slots=True)
class ScanResult:
    added: int  # new terms stored
    known: int  # findings already in the review list (their decisions kept)
    transcripts: int
    by_kind: dict[str, int]  # the new terms by kind
    entity_model: str | None  # the trained pipeline used, if any


@dataclass(frozen=True, slots=True)
class TermRule:
    """An accepted term as the pseudonymizer applies it (no lead check: applying hides, it shows nothing)."""

    id: int
    text: str
    kind: str
    pseudonym: str


# --- the roster ------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return text.split()


def _is_name_word(word: str) -> bool:
    bare = word.strip(".,'’-")
    return len(bare) >= 2 and bare[:1].isupper() and any(c.isalpha() for c in bare) and not bare.isupper()


def looks_like_person(label: str) -> bool:
    """``Gloria Anaya`` and ``Tomás`` do; ``P1``, ``Speaker 2``, ``Interviewer``, ``Unknown`` do not."""
    words = _words(label)
    if not words or any(ch.isdigit() for ch in label):
        return False
    if all(w.lower().strip(".:") in GENERIC_LABEL_WORDS for w in words):
        return False
    return any(_is_name_word(w) and w.lower() not in GENERIC_LABEL_WORDS for w in words)


def school_stem(name: str) -> str | None:
    """``Birchwood Elementary`` → ``Birchwood``; ``Lincoln High School`` → ``Lincoln``; else None."""
    words = _words(name)
    cut = next((i for i, w in enumerate(words) if w.lower().strip(".,") in SCHOOL_WORDS), None)
    if cut is None or cut == 0:
        return None
    return " ".join(words[:cut])


def _proper(value: str) -> bool:
    value = value.strip()
    return bool(value) and value[0].isupper() and not any(c.isdigit() for c in value) and len(value) <= 200


def roster_candidates(session: Session) -> list[Candidate]:
    """The project's own identifiers: speakers, cases and text case attributes (see the module doc)."""
    out: list[Candidate] = []
    roles: dict[str, Counter[str]] = defaultdict(Counter)
    pseudonyms: dict[str, str] = {}
    for label, role, pseudonym in session.exec(select(Speaker.label, Speaker.role, Speaker.pseudonym)).all():
        label = " ".join(label.split())
        if looks_like_person(label):
            roles[label][role] += 1
            if pseudonym:
                pseudonyms.setdefault(label, pseudonym)
    for label in sorted(roles):
        role = roles[label].most_common(1)[0][0]
        out.append(Candidate(label, "name", "roster", pseudonyms.get(label, ""), role))
        words = _words(label)
        if len(words) > 1:
            for word in words:
                bare = word.strip(".,")
                if _is_name_word(bare) and bare.lower() not in NOT_NAME_PARTS and len(bare) >= 3:
                    out.append(Candidate(bare, "name", "roster", f"@{label}", role))  # "@": the full name's
    case_names = [" ".join(n.split()) for n in session.exec(select(Case.name)).all()]
    for name in sorted(case_names):
        if not name:
            continue
        if name in roles:
            continue  # a case that is a person: already a name
        stem = school_stem(name)
        kind = "school" if stem is not None else "other"
        out.append(Candidate(name, kind, "roster", "", "case"))
        if stem and len(stem) >= 3:
            out.append(Candidate(stem, kind, "roster", f"@{name}"))
            first = _words(stem)[0]
            if first != stem and len(first) >= 4 and _is_name_word(first):
                out.append(Candidate(first, kind, "roster", f"@{name}"))
    seen_cases = set(case_names)
    values = session.exec(select(CaseAttribute.value).where(CaseAttribute.type == "text").distinct()).all()
    for value in sorted({" ".join(v.split()) for v in values}):
        if _proper(value) and value not in seen_cases:
            out.append(Candidate(value, "school" if school_stem(value) else "place", "roster"))
    return out


def read_term_list(path: str | Path) -> list[Candidate]:
    """The lead's list: one term a line, ``TERM`` or ``TERM | KIND`` (``#`` starts a comment line)."""
    p = Path(path)
    try:
        raw = p.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except UnicodeDecodeError:
        raise InputError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    out: list[Candidate] = []
    for number, line in enumerate(raw.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        text, kind = line, "name"
        if "|" in line:
            text, _, kind = (part.strip() for part in line.rpartition("|"))
            kind = kind.lower()
        elif "\t" in line:
            text, _, kind = (part.strip() for part in line.rpartition("\t"))
            kind = kind.lower()
        text = " ".join(text.split())
        if kind not in KINDS:
            raise InputError(f"{path}:{number}: unknown kind {kind!r} (one of {', '.join(KINDS)})")
        if not text:
            raise InputError(f"{path}:{number}: no term before the kind")
        if len(text) > 500 or "\x00" in text:
            raise InputError(f"{path}:{number}: a term is at most 500 characters of text")
        out.append(Candidate(text, kind, "list"))
    return out


# --- rules ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _matcher() -> Any:
    from spacy.matcher import Matcher

    from .language import english

    nlp = english()
    matcher = Matcher(nlp.vocab)
    proper = {"IS_TITLE": True, "IS_STOP": False, "IS_ALPHA": True}
    capital = {"TEXT": {"REGEX": r"^[A-Z][A-Za-z'’-]+$"}, "IS_STOP": False}
    school = {"LOWER": {"IN": sorted(SCHOOL_WORDS)}, "TEXT": {"REGEX": r"^[A-Z]"}}
    titles = [t for base in TITLES for t in (base, base + ".")]
    matcher.add("email", [[{"LIKE_EMAIL": True}]])
    matcher.add(
        "school",
        [
            [capital, school],
            [capital, capital, school],
            [capital, capital, capital, school],
            [capital, school, {"LOWER": "school"}],
            [capital, capital, school, {"LOWER": "school"}],
        ],
    )
    matcher.add("title", [[{"ORTH": {"IN": titles}}, proper], [{"ORTH": {"IN": titles}}, proper, proper]])
    day = {"TEXT": {"REGEX": r"^(0?[1-9]|[12]\d|3[01])(st|nd|rd|th)?$"}}
    year = {"TEXT": {"REGEX": r"^(19|20)\d\d$"}}
    month = {"LOWER": {"IN": [*MONTHS, *(m + "." for m in MONTHS if len(m) <= 4)]}, "IS_TITLE": True}
    month_dot = {"ORTH": ".", "OP": "?"}
    comma = {"ORTH": ",", "OP": "?"}
    matcher.add(
        "date",
        [
            [month, month_dot, day, comma, year],
            [day, {"LOWER": "of", "OP": "?"}, month, month_dot, comma, year],
            [month, month_dot, year],
            [month, month_dot, day],
            [day, {"LOWER": "of"}, month],
        ],
    )
    return matcher


@lru_cache(maxsize=1)
def entity_pipeline() -> tuple[str, Language] | None:
    """An installed trained English pipeline (its name and the loaded pipeline), or None. Never downloads."""
    try:
        import spacy
        import spacy.util
    except ImportError:  # pragma: no cover - spaCy is a base dependency
        return None
    for name in ENTITY_MODELS:
        if spacy.util.is_package(name):
            try:
                return name, spacy.load(name, exclude=["lemmatizer", "textcat"])
            except Exception:  # a broken optional model is skipped: the rules still run
                continue
    return None


ENTITY_KINDS = {"PERSON": "name", "GPE": "place", "LOC": "place", "FAC": "place", "ORG": "school", "DATE": "date"}


def _longest(findings: list[Finding]) -> list[Finding]:
    """Overlapping findings of one kind family: keep the longest (then the earliest)."""
    kept: list[Finding] = []
    for f in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and f.start < kept[-1].end:
            if f.end - f.start > kept[-1].end - kept[-1].start:
                kept[-1] = f
            continue
        kept.append(f)
    return kept


def detect(text: str, *, entities: bool = True) -> list[Finding]:
    """Rule findings (and a trained pipeline's entities when ``entities`` and one is installed)."""
    from .language import english

    found: list[Finding] = []
    for m in PHONE.finditer(text):
        digits = sum(c.isdigit() for c in m.group())
        if 7 <= digits <= 15:
            found.append(Finding(m.group(), "phone", "rule", m.start(), m.end()))
    for m in NUMERIC_DATE.finditer(text):
        found.append(Finding(m.group(), "date", "rule", m.start(), m.end()))
    doc = english().make_doc(text)
    vocab = doc.vocab
    for match_id, start, end in _matcher()(doc):
        label = vocab.strings[match_id]
        span = doc[start:end]
        if label == "title":
            span = doc[start + 1 : end]  # the name, not the title
            found.append(Finding(span.text, "name", "rule", span.start_char, span.end_char))
        else:
            found.append(Finding(span.text, label, "rule", span.start_char, span.end_char))
    if entities:
        pipeline = entity_pipeline()
        if pipeline is not None:
            for ent in pipeline[1](text).ents:
                kind = ENTITY_KINDS.get(ent.label_)
                if kind is None:
                    continue
                if kind == "school" and not any(w.lower() in SCHOOL_WORDS for w in ent.text.split()):
                    continue  # an organisation that is not a school: not proposed
                if kind == "date" and not any(c.isdigit() for c in ent.text):
                    continue  # "last spring", "Fridays": not a date that identifies
                found.append(Finding(ent.text, kind, "entity", ent.start_char, ent.end_char))
    by_kind: dict[str, list[Finding]] = defaultdict(list)
    for f in found:
        by_kind[f.kind].append(f)
    out = [f for group in by_kind.values() for f in _longest(group)]
    return sorted(out, key=lambda f: (f.start, f.end, f.kind))


# --- matching terms in text ------------------------------------------------------------------


def _normal(text: str) -> str:
    return " ".join(text.split())


def term_key(text: str, kind: str) -> str:
    """How a matched text is looked up: as written (spaces collapsed), lower case for caseless kinds."""
    text = _normal(text)
    return text.lower() if kind in CASELESS_KINDS else text


def compile_terms(terms: Iterable[tuple[str, str]]) -> re.Pattern[str] | None:
    """One pattern for many (text, kind) terms: longest first, whole words, any run of white space
    between words, caseless for emails, phones and dates. None when there is nothing to match."""
    alternatives: dict[str, str] = {}
    for text, kind in terms:
        text = _normal(text)
        if not text:
            continue
        body = r"\s+".join(re.escape(w) for w in text.split(" "))
        alternatives.setdefault(
            f"{'i' if kind in CASELESS_KINDS else 's'}{text}", f"(?i:{body})" if kind in CASELESS_KINDS else body
        )
    if not alternatives:
        return None
    ordered = sorted(alternatives.items(), key=lambda kv: (-len(kv[0]), kv[0]))
    return re.compile(r"(?<!\w)(?:" + "|".join(v for _, v in ordered) + r")(?!\w)")


class TermIndex:
    """Find (text, kind) terms in texts; ``lookup`` names which term a match is."""

    def __init__(self, terms: Sequence[tuple[str, str]]) -> None:
        self.pattern = compile_terms(terms)
        self.exact: dict[str, int] = {}
        self.caseless: dict[str, int] = {}
        for i, (text, kind) in enumerate(terms):
            if kind in CASELESS_KINDS:
                self.caseless.setdefault(_normal(text).lower(), i)
            else:
                self.exact.setdefault(_normal(text), i)

    def lookup(self, matched: str) -> int | None:
        key = _normal(matched)
        found = self.exact.get(key)
        return found if found is not None else self.caseless.get(key.lower())

    def finditer(self, text: str) -> Iterable[tuple[int, int, int]]:
        """(start, end, term index) of every match, left to right, never overlapping."""
        if self.pattern is None:
            return
        for m in self.pattern.finditer(text):
            index = self.lookup(m.group())
            if index is not None:
                yield m.start(), m.end(), index


# --- pseudonyms ------------------------------------------------------------------------------


def _letters(n: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


class PseudonymPlanner:
    """Proposes pseudonyms by kind, numbering past those already in use: ``[Teacher A]``,
    ``[School 1]``, ``[email]``; a name part or school stem takes its full name's pseudonym."""

    def __init__(self, used: Iterable[str]) -> None:
        self.used = set(used)

    def _next(self, prefix: str, lettered: bool) -> str:
        n = 0
        while True:
            label = f"[{prefix} {_letters(n) if lettered else n + 1}]"
            if label not in self.used:
                self.used.add(label)
                return label
            n += 1

    def propose(self, kind: str, role: str = "") -> str:
        if kind in FIXED_PSEUDONYMS:
            return FIXED_PSEUDONYMS[kind]
        if kind == "name":
            return self._next(ROLE_LABELS.get(role, "Person"), True)
        if role == "case" and kind == "other":
            return self._next("Case", False)
        return self._next(NUMBERED_PREFIX.get(kind, "Redacted"), False)


# --- the review list ---------------------------------------------------------------------------


def _all_terms(session: Session) -> list[DeidTerm]:
    return list(session.exec(select(DeidTerm).order_by(col(DeidTerm.kind), col(DeidTerm.text))).all())


def _contained(c: Candidate, rows: Sequence[DeidTerm]) -> DeidTerm | None:
    """The longest term of the same kind (names, places, schools) found whole inside the candidate."""
    if c.kind in CASELESS_KINDS or c.origin not in ("rule", "entity"):
        return None
    best: DeidTerm | None = None
    for r in rows:
        if (
            r.kind == c.kind
            and r.pseudonym
            and len(r.text) < len(c.text)
            and (best is None or len(r.text) > len(best.text))
            and re.search(rf"(?<!\w){re.escape(r.text)}(?!\w)", c.text)
        ):
            best = r
    return best


def _store(session: Session, lead: str, candidates: Sequence[Candidate]) -> tuple[int, int, Counter[str]]:
    """Add the candidates not yet in the list (pseudonyms proposed); keep every existing decision."""
    rows = _all_terms(session)
    known = {(term_key(r.text, r.kind), r.kind) for r in rows}
    known_text = {term_key(r.text, r.kind) for r in rows if r.origin in ("roster", "list")}
    by_text = {r.text: r for r in rows}
    planner = PseudonymPlanner(r.pseudonym for r in rows if r.pseudonym)
    added, seen, kinds = 0, 0, Counter[str]()
    pending_refs: list[tuple[DeidTerm, str]] = []
    fresh: dict[str, DeidTerm] = {}
    for c in candidates:
        key = (term_key(c.text, c.kind), c.kind)
        if key in known or (c.origin in ("rule", "entity") and key[0] in known_text):
            seen += 1
            continue
        known.add(key)
        if c.origin in ("roster", "list"):
            known_text.add(key[0])
        row = DeidTerm(text=c.text, kind=c.kind, origin=c.origin, decision=DeidDecision.PENDING.value)
        if c.pseudonym.startswith("@"):
            pending_refs.append((row, c.pseudonym[1:]))
        elif not c.pseudonym and (inside := _contained(c, [*rows, *fresh.values()])) is not None:
            row.pseudonym = inside.pseudonym  # "Harlow Valley High School" is "Harlow Valley High"
        else:
            row.pseudonym = c.pseudonym or planner.propose(c.kind, c.role)
            planner.used.add(row.pseudonym)
        session.add(row)
        fresh[c.text] = row
        added += 1
        kinds[c.kind] += 1
    for row, full in pending_refs:
        owner = fresh.get(full) or by_text.get(full)
        row.pseudonym = owner.pseudonym if owner is not None and owner.pseudonym else planner.propose(row.kind)
    session.flush()
    return added, seen, kinds


def scan(
    access: Access, lead: str | None, *, extra: Sequence[Candidate] = (), roster: bool = True, entities: bool = True
) -> ScanResult:
    """Scan every transcript and store new findings as pending terms (lead only; one transaction, audited)."""
    with access.read() as s:
        require_lead(s, lead, WHAT)
        candidates: list[Candidate] = [*(roster_candidates(s) if roster else []), *extra]
        texts = list(s.exec(select(Transcript.text)).all())
    pipeline = entity_pipeline() if entities else None
    model = pipeline[0] if pipeline is not None else None
    found: list[Candidate] = []
    for text in texts:
        found.extend(Candidate(_normal(f.text), f.kind, f.origin) for f in detect(text, entities=entities))
    found.sort(key=lambda c: (KINDS.index(c.kind), c.text))
    with access.transaction() as s:
        actor = require_lead(s, lead, WHAT).name
        added, known, kinds = _store(s, actor, [*candidates, *found])
        audit.record(
            s,
            actor,
            "deid.scan",
            entity="qc_deid_term",
            after={"added": added, "known": known, "transcripts": len(texts), "by_kind": dict(kinds), "model": model},
        )
    return ScanResult(added, known, len(texts), dict(sorted(kinds.items())), model)


def add_terms(access: Access, lead: str | None, candidates: Sequence[Candidate]) -> ScanResult:
    """Add the lead's own terms (``--list``) without scanning."""
    with access.transaction() as s:
        actor = require_lead(s, lead, WHAT).name
        added, known, kinds = _store(s, actor, candidates)
        audit.record(s, actor, "deid.add", entity="qc_deid_term", after={"added": added, "by_kind": dict(kinds)})
    return ScanResult(added, known, 0, dict(sorted(kinds.items())), None)


def _context(text: str, start: int, end: int, width: int = 32) -> str:
    left = " ".join(text[max(0, start - width) : start].split())
    right = " ".join(text[end : end + width].split())
    return f"…{left} [{_normal(text[start:end])}] {right}…"


def list_terms(
    access: Access,
    viewer: str | None,
    *,
    kind: str | None = None,
    decision: str | None = None,
    contexts: int = 2,
) -> list[TermView]:
    """The review list (lead only): every term with its occurrences in the transcripts now."""
    with access.read() as s:
        require_lead(s, viewer, WHAT)
        rows = _all_terms(s)
        texts = list(s.exec(select(Transcript.text).order_by(col(Transcript.id))).all())
    index = TermIndex([(r.text, r.kind) for r in rows])
    counts: Counter[int] = Counter()
    where: dict[int, list[str]] = defaultdict(list)
    for text in texts:
        for start, end, i in index.finditer(text):
            counts[i] += 1
            if len(where[i]) < contexts:
                where[i].append(_context(text, start, end))
    out = []
    for i, r in enumerate(rows):
        if (kind and r.kind != kind) or (decision and r.decision != decision):
            continue
        assert r.id is not None
        out.append(
            TermView(r.id, r.text, r.kind, r.pseudonym, r.decision, r.origin, counts[i], tuple(where[i]), r.decided_by)
        )
    return out


def _find_term(session: Session, term: str, kind: str | None) -> DeidTerm:
    """A term by id (``12`` or ``#12``) or text (and kind when several kinds share the text)."""
    ref = term.strip()
    if ref.lstrip("#").isdigit():
        row = session.get(DeidTerm, int(ref.lstrip("#")))
        if row is not None:
            return row
    stmt = select(DeidTerm).where(DeidTerm.text == _normal(ref))
    if kind:
        stmt = stmt.where(DeidTerm.kind == kind)
    rows = list(session.exec(stmt).all())
    if not rows:
        caseless = [r for r in _all_terms(session) if r.text.lower() == _normal(ref).lower()]
        rows = [r for r in caseless if not kind or r.kind == kind]
    if not rows:
        raise QualcodeError(f"no de-identification term {term!r} (see `qualcode deidentify list`)")
    if len(rows) > 1:
        raise QualcodeError(
            f"{term!r} is listed as {', '.join(sorted(r.kind for r in rows))}: say which with --kind (or use its id)"
        )
    return rows[0]


def _check_pseudonym(pseudonym: str) -> str:
    pseudonym = _normal(pseudonym)
    if not pseudonym or len(pseudonym) > 200 or "\x00" in pseudonym:
        raise QualcodeError("a pseudonym is 1 to 200 characters of text")
    return pseudonym


def decide(
    access: Access,
    lead: str | None,
    term: str,
    decision: DeidDecision | None,
    *,
    pseudonym: str | None = None,
    kind: str | None = None,
) -> TermView:
    """Accept or reject one term (``decision``), and/or set its pseudonym: lead only, one audited write."""
    with access.transaction() as s:
        actor = require_lead(s, lead, WHAT).name
        row = _find_term(s, term, kind)
        before = {"decision": row.decision, "pseudonym_changed": False}
        if pseudonym is not None:
            new = _check_pseudonym(pseudonym)
            if new.lower() == row.text.lower():
                raise QualcodeError("the pseudonym must differ from the term it replaces")
            before["pseudonym_changed"] = new != row.pseudonym
            row.pseudonym = new
        if decision is not None:
            row.decision = decision.value
        row.decided_by, row.decided_at = actor, datetime.now(UTC)
        s.add(row)
        assert row.id is not None
        audit.record(
            s,
            actor,
            "deid.decide",
            entity="qc_deid_term",
            entity_id=row.id,
            before={"decision": before["decision"]},
            after={"decision": row.decision, "kind": row.kind, "pseudonym_changed": before["pseudonym_changed"]},
        )
        view = TermView(row.id, row.text, row.kind, row.pseudonym, row.decision, row.origin, 0, (), row.decided_by)
    return view


def decide_all(
    access: Access,
    lead: str | None,
    decision: DeidDecision,
    *,
    kind: str | None = None,
    origin: str | None = None,
    pending_only: bool = True,
) -> int:
    """Accept or reject every (pending) term of a kind and/or origin at once: one audited write."""
    with access.transaction() as s:
        actor = require_lead(s, lead, WHAT).name
        rows = [
            r
            for r in _all_terms(s)
            if (kind is None or r.kind == kind)
            and (origin is None or r.origin == origin)
            and (not pending_only or r.decision == DeidDecision.PENDING.value)
            and r.decision != decision.value
        ]
        now = datetime.now(UTC)
        for r in rows:
            r.decision, r.decided_by, r.decided_at = decision.value, actor, now
            s.add(r)
        audit.record(
            s,
            actor,
            "deid.decide_all",
            entity="qc_deid_term",
            after={
                "decision": decision.value,
                "kind": kind,
                "origin": origin,
                "ids": [r.id for r in rows],
            },
        )
    return len(rows)


def term_rules(session: Session) -> list[TermRule]:
    """The accepted terms, as the pseudonymizer applies them (anyone may pseudonymize an export)."""
    rows = session.exec(
        select(DeidTerm).where(DeidTerm.decision == DeidDecision.ACCEPTED.value).order_by(col(DeidTerm.id))
    ).all()
    return [
        TermRule(r.id or 0, r.text, r.kind, r.pseudonym or FIXED_PSEUDONYMS.get(r.kind, "[redacted]")) for r in rows
    ]


@dataclass(frozen=True, slots=True)
class ReviewSummary:
    pending: int
    accepted: int
    rejected: int


def review_summary(access: Access, viewer: str | None) -> ReviewSummary | None:
    """How many terms await the lead's decision (None for anyone but the lead, or with no terms)."""
    from ..coding.blinding import find_coder

    with access.read() as s:
        if viewer is None:
            return None
        try:
            if find_coder(s, viewer).role != "lead":
                return None
        except QualcodeError:
            return None
        counts = Counter(s.exec(select(DeidTerm.decision)).all())
    if not counts:
        return None
    return ReviewSummary(counts["pending"], counts["accepted"], counts["rejected"])
