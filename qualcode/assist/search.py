"""Corpus search with keyword in context, and auto-coding from a search.

A query searches the text of segments (the units coders code; speaker labels between them are
not searched) in every transcript, or in a scope: a case, a transcript, a speaker role, or the
segments of a code in a layer (a blinded coder's own codings; the lead's consensus or a chosen
layer). Three kinds of query:

- words and quoted phrases (``teach "student work"``): each term matches whole words,
  case-insensitively; a trailing ``*`` matches any ending (``collab*``); a phrase's words follow
  one another with only white space between them. Every occurrence of any term is a hit.
- ``lemma``: each word matches every form with the same lemma (``teach`` finds ``teaching`` and
  ``taught``), from the shared offline pipeline (``qualcode.assist.language``).
- ``regex``: a regular expression (the ``regex`` module, case-insensitive), stopped after
  ``REGEX_SECONDS`` in all so a pattern that backtracks without end cannot hang the search.

``apply_search`` codes the segments of chosen hits with one code as the acting coder's own
codings (``Coding.source = "search"``), in each transcript's current round, in one transaction
with one ``search.apply`` audit event naming the batch; ``undo_last_batch`` takes the acting
coder's last such batch back in one transaction (``search.undo``).
"""

from __future__ import annotations

import time
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import regex
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver, get_codebook
from ..coding.blinding import find_coder, visible_coder_ids
from ..coding.layers import Layer, layer_select, named_layer
from ..coding.rounds import current_round
from ..coding.segments import segments_with_speakers
from ..coding.service import inactive_code_message
from ..errors import BlindingError, InputError, QualcodeError
from ..ingest.catalog import transcript_ids_by_title
from ..store import audit
from ..store.access import Access
from ..store.enums import CoderRole, CodingSource
from ..store.ids import require_id
from ..store.models import SPEAKER_ROLES, AuditEvent, Case, Code, Coder, Coding, Segment, Speaker, Transcript
from ..table import terminal_text

REGEX_SECONDS = 10.0  # the whole search's budget for a user's regular expression
CONTEXT_CHARS = 160  # context kept on each side of a hit (the display cuts it to its width)
APPLY_ACTION = "search.apply"
UNDO_ACTION = "search.undo"
_QUERY_TERM = regex.compile(r'"([^"]*)"|(\S+)')


# --- what is asked ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchQuery:
    """What to look for: words and quoted phrases, their lemmas, or a regular expression."""

    text: str
    lemma: bool = False
    regex: bool = False

    def describe(self) -> str:
        kind = "regex " if self.regex else ("lemmas of " if self.lemma else "")
        return f"{kind}{self.text}"


@dataclass(frozen=True)
class Scope:
    """Where to look (every field None: every segment of every transcript)."""

    case: str | None = None
    transcript: str | None = None  # a title, or CASE/TITLE
    role: str | None = None
    code: str | None = None  # a code (name, key or path): its segments (and its sub-codes')
    layer: str | None = None  # with ``code``: "consensus" or a coder (default: yours, or the consensus for a lead)
    codebook: str | None = None  # where ``code`` is looked up (default: the active codebook)


# --- what is found ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    """One occurrence. ``start``/``end`` are offsets into the transcript's text."""

    number: int  # 1-based in the result's order (``--only`` names these)
    transcript_id: int
    transcript: str
    case: str
    segment_id: int
    position: int
    speaker: str
    role: str
    start: int
    end: int
    match: str
    left: str  # context before, inside the segment, white space flattened
    right: str  # context after


@dataclass(frozen=True)
class CountRow:
    name: str  # a case or a speaker role
    hits: int
    segments: int
    transcripts: int


@dataclass(frozen=True)
class SearchResult:
    query: SearchQuery
    hits: list[Hit]
    segments_searched: int
    transcripts_searched: int
    lemmatizer: str | None = None  # which lemmatizer a lemma search used
    by_case: list[CountRow] = field(default_factory=list)
    by_role: list[CountRow] = field(default_factory=list)

    @property
    def segment_ids(self) -> list[int]:
        return list(dict.fromkeys(h.segment_id for h in self.hits))


# --- matching --------------------------------------------------------------------------------


def query_terms(text: str) -> list[list[str]]:
    """The terms of a words query: each a list of words (a quoted phrase has several)."""
    if text.count('"') % 2:
        raise InputError(f"query {text!r}: a quote mark is not closed")
    terms = []
    for m in _QUERY_TERM.finditer(text):
        words = (m.group(1) if m.group(1) is not None else m.group(2)).split()
        if words:
            terms.append(words)
    if not terms:
        raise InputError("the query is empty: give a word, a quoted phrase or --regex PATTERN")
    return terms


def _word_pattern(word: str) -> str:
    if word.endswith("*") and word.strip("*"):
        return regex.escape(word.rstrip("*")) + r"\w*"
    return regex.escape(word)


def compile_query(query: SearchQuery) -> regex.Pattern[str]:
    """The pattern a words or regex query searches with (``InputError`` for a bad expression)."""
    if query.regex:
        if not query.text:
            raise InputError("--regex: the expression is empty")
        try:
            return regex.compile(query.text, regex.IGNORECASE | regex.MULTILINE)
        except (regex.error, ValueError, RecursionError, OverflowError) as exc:
            raise InputError(f"--regex: not a valid regular expression ({exc})") from None
    alternatives = [r"\s+".join(_word_pattern(w) for w in words) for words in query_terms(query.text)]
    return regex.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", regex.IGNORECASE)


@dataclass(frozen=True)
class _LemmaTerm:
    words: tuple[tuple[str, bool], ...]  # (lemma or prefix, is_prefix)


def _lemma_terms(text: str) -> list[_LemmaTerm]:
    from .language import lemma

    out = []
    for words in query_terms(text):
        parts = []
        for w in words:
            if w.endswith("*") and w.strip("*"):
                parts.append((w.rstrip("*").lower(), True))
            else:
                parts.append((lemma(w), False))
        out.append(_LemmaTerm(tuple(parts)))
    return out


def _lemma_pattern(terms: list[_LemmaTerm]) -> regex.Pattern[str] | None:
    """The words whose lemma matches, as one pattern: each query word becomes every form the lookup
    table maps to its lemma (``teach``: teach, teaches, teaching, taught), a ``prefix*`` any word so
    starting or any form of a lemma so starting. None with the rule lemmatizer, whose forms cannot
    be listed: then spaCy's tokens are lemmatized one by one."""
    from .language import forms_of, forms_of_prefix

    alternatives = []
    for term in terms:
        words = []
        for word, prefix in term.words:
            forms = forms_of_prefix(word) if prefix else forms_of(word)
            if forms is None:
                return None
            options = sorted((regex.escape(f) for f in forms), key=len, reverse=True)
            if prefix:
                options.insert(0, regex.escape(word) + r"\w*")
            words.append("(?:" + "|".join(options) + ")")
        alternatives.append(r"\s+".join(words))
    return regex.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)", regex.IGNORECASE)


def _lemma_spans(tokens: Sequence[Any], terms: list[_LemmaTerm]) -> list[tuple[int, int]]:
    spans = set()
    for i in range(len(tokens)):
        for term in terms:
            n = len(term.words)
            if i + n > len(tokens):
                continue
            ok = True
            for (want, prefix), tok in zip(term.words, tokens[i : i + n]):
                if prefix:
                    ok = tok.text.lower().startswith(want) or tok.lemma.startswith(want)
                else:
                    ok = tok.lemma == want
                if not ok:
                    break
            if ok:
                spans.add((tokens[i].start, tokens[i + n - 1].end))
    return sorted(spans)


def flat(text: str) -> str:
    """White space (newlines, tabs, runs) as single spaces."""
    return " ".join(text.split()) if text.strip() else ""


# --- the scope -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Unit:
    segment_id: int
    transcript_id: int
    transcript: str
    case: str
    position: int
    start: int
    end: int
    speaker: str
    role: str


def code_segment_ids(session: Session, viewer: str | None, scope: Scope) -> set[int]:
    """The segments coded with ``scope.code`` (or a code under it) in the layer the viewer may see."""
    if scope.code is None:
        return set()
    codebook = get_codebook(session, scope.codebook)
    resolver = CodeResolver(session, codebook, include_retired=True)
    code = resolver.resolve(scope.code)
    wanted = {require_id(code)}
    grew = True
    while grew:  # the code and every code under it
        more = {require_id(c) for c in resolver.codes if c.parent_id in wanted} - wanted
        wanted |= more
        grew = bool(more)
    layer = choose_layer(session, viewer, scope.layer)
    stmt = layer_select(layer.coder_id, codebook_id=codebook.id)
    return {sid for sid, code_id, _, _ in session.exec(stmt).all() if code_id in wanted}


def choose_layer(session: Session, viewer: str | None, name: str | None) -> Layer:
    """The layer ``--code`` reads: a coder's own by default (the consensus for a lead or auditor, or
    for anyone once unblinded without a name); another layer only where blinding allows it."""
    visible = visible_coder_ids(session, viewer)  # None: may see everyone's
    me = find_coder(session, viewer) if viewer else None
    if name is None:
        if me is not None and me.role == CoderRole.CODER:
            return Layer.of_coder(me)
        return Layer.consensus()
    layer = named_layer(session, name)
    if visible is not None and (layer.is_consensus or layer.coder_id not in visible):
        whose = "the consensus" if layer.is_consensus else f"{name}'s codings"
        raise BlindingError(f"the project is blinded: {viewer} may not search {whose} (only their own codings)")
    return layer


def _units(session: Session, viewer: str | None, scope: Scope) -> tuple[list[_Unit], dict[int, str]]:
    """The segments in scope, in order, and the text of each transcript they are in."""
    stmt = segments_with_speakers()
    if scope.case is not None:
        if session.exec(select(Case.id).where(Case.name == scope.case)).first() is None:
            raise InputError(f"unknown case {scope.case!r} (see `qualcode cases`)")
        stmt = stmt.where(Case.name == scope.case)
    if scope.transcript is not None:
        stmt = stmt.where(Segment.transcript_id == transcript_ids_by_title(session, [scope.transcript])[0])
    if scope.role is not None:
        if scope.role not in SPEAKER_ROLES:
            raise InputError(f"unknown speaker role {scope.role!r} (roles: {', '.join(SPEAKER_ROLES)})")
        stmt = stmt.where(Speaker.role == scope.role)
    if scope.layer is not None and scope.code is None:
        raise InputError("--layer says whose codings --code reads: give --code CODE too")
    coded = code_segment_ids(session, viewer, scope) if scope.code is not None else None
    units = [
        _Unit(sid, tid, title, case or "", pos, a, b, pseud or label or "", role or "")
        for sid, tid, title, case, pos, a, b, label, pseud, role in session.exec(stmt).all()
        if coded is None or sid in coded
    ]
    units.sort(key=lambda u: (u.case, u.transcript, u.transcript_id, u.position))
    tids = sorted({u.transcript_id for u in units})
    texts: dict[int, str] = {}
    for start in range(0, len(tids), 500):
        part = tids[start : start + 500]
        rows = session.exec(select(Transcript.id, Transcript.text).where(col(Transcript.id).in_(part))).all()
        texts.update((require_id(tid), text) for tid, text in rows)
    return units, texts


# --- searching -------------------------------------------------------------------------------


def search_session(session: Session, viewer: str | None, query: SearchQuery, scope: Scope = Scope()) -> SearchResult:
    """Every hit of ``query`` in ``scope``, numbered, with counts by case and by speaker role."""
    if query.regex and query.lemma:
        raise InputError("--lemma and --regex do not go together: lemmas are for words and phrases")
    terms = _lemma_terms(query.text) if query.lemma else []
    # Lemmas: a pattern of every form of each word where the lookup table lists them, else spaCy's tokens.
    pattern = _lemma_pattern(terms) if query.lemma else compile_query(query)
    units, texts = _units(session, viewer, scope)
    spans_of: list[list[tuple[int, int]]] = []
    lemmatizer = None
    if query.lemma:
        from .language import lemmatizer_name

        lemmatizer = lemmatizer_name()
    if pattern is None:
        from .language import pipe_tokens

        texts_in = (texts[u.transcript_id][u.start : u.end] for u in units)
        spans_of = [_lemma_spans(toks, terms) for toks in pipe_tokens(texts_in)]
    else:
        deadline = time.monotonic() + REGEX_SECONDS
        for u in units:
            left = deadline - time.monotonic()
            try:
                if left <= 0:
                    raise TimeoutError
                found = [
                    (m.start(), m.end())
                    for m in pattern.finditer(texts[u.transcript_id][u.start : u.end], timeout=left)
                    if m.end() > m.start()
                ]  # on the segment's own text: ^ and lookbehinds see where it starts
            except TimeoutError:
                raise InputError(
                    f"--regex took more than {REGEX_SECONDS:g} s and was stopped: simplify it "
                    "(nested repeats such as (a+)+ backtrack without end)"
                ) from None
            spans_of.append(found)
    hits: list[Hit] = []
    for u, spans in zip(units, spans_of):
        text = texts[u.transcript_id][u.start : u.end]
        for a, b in spans:
            hits.append(
                Hit(
                    number=len(hits) + 1,
                    transcript_id=u.transcript_id,
                    transcript=u.transcript,
                    case=u.case,
                    segment_id=u.segment_id,
                    position=u.position,
                    speaker=u.speaker,
                    role=u.role,
                    start=u.start + a,
                    end=u.start + b,
                    match=flat(text[a:b]),
                    left=flat(text[max(0, a - CONTEXT_CHARS) : a]) + (" " if a and text[a - 1].isspace() else ""),
                    right=(" " if b < len(text) and text[b].isspace() else "") + flat(text[b : b + CONTEXT_CHARS]),
                )
            )
    return SearchResult(
        query=query,
        hits=hits,
        segments_searched=len(units),
        transcripts_searched=len({u.transcript_id for u in units}),
        lemmatizer=lemmatizer,
        by_case=_counts(hits, lambda h: h.case),
        by_role=_counts(hits, lambda h: h.role or "unknown"),
    )


def search(project: Access, viewer: str | None, query: SearchQuery, scope: Scope = Scope()) -> SearchResult:
    """``search_session`` in a read session of its own (for the workbench and notebooks)."""
    with project.read() as s:
        return search_session(s, viewer, query, scope)


def _counts(hits: Iterable[Hit], key: Any) -> list[CountRow]:
    groups: dict[str, list[Hit]] = {}
    for h in hits:
        groups.setdefault(key(h), []).append(h)
    return [
        CountRow(name, len(hs), len({h.segment_id for h in hs}), len({h.transcript_id for h in hs}))
        for name, hs in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0]))
    ]


# --- keyword in context, measured in terminal cells ------------------------------------------


def cell_width(text: str) -> int:
    """Columns ``text`` takes on a terminal: wide East Asian characters two, combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def cells_tail(text: str, width: int) -> str:
    """The end of ``text`` that fits ``width`` cells, starting with … when cut."""
    if cell_width(text) <= width:
        return text
    out: list[str] = []
    used = 1  # the ellipsis
    for ch in reversed(text):
        w = cell_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "…" + "".join(reversed(out))


def cells_head(text: str, width: int) -> str:
    """The start of ``text`` that fits ``width`` cells, ending with … when cut."""
    if cell_width(text) <= width:
        return text
    out: list[str] = []
    used = 1
    for ch in text:
        w = cell_width(ch)
        if used + w > width:
            break
        out.append(ch)
        used += w
    return "".join(out) + "…"


def pad_left(text: str, width: int) -> str:
    return " " * max(0, width - cell_width(text)) + text


def pad_right(text: str, width: int) -> str:
    return text + " " * max(0, width - cell_width(text))


@dataclass(frozen=True)
class KwicLine:
    """A hit laid out for a terminal: each part already cut and padded to its column's cells."""

    number: str
    where: str
    speaker: str
    left: str
    match: str
    right: str


def kwic(hit: Hit, context: int) -> tuple[str, str, str]:
    """(left, match, right) of ``hit``, safe for a terminal, left cut to ``context`` cells from its
    end and right to ``context`` cells from its start."""
    return (
        cells_tail(terminal_text(hit.left.rstrip()), context),
        terminal_text(hit.match),
        cells_head(terminal_text(hit.right.lstrip()), context),
    )


def kwic_lines(
    hits: Sequence[Hit],
    context: int | None = 40,
    *,
    width: int = 100,
    title_width: int = 28,
    speaker_width: int = 24,
) -> list[str]:
    """Aligned keyword-in-context lines: ``#  transcript #segment  speaker  left │ hit │ right``.

    Every hit starts in the same terminal column, whatever the scripts around it (widths are
    measured in cells). ``context`` cells on each side, or, when None, as many as fit ``width``.
    """
    rows = []
    for h in hits:
        where = cells_head(terminal_text(h.transcript), title_width) + f" #{h.position}"
        speaker = cells_head(terminal_text(h.speaker + (f" ({h.role})" if h.role else "")), speaker_width)
        rows.append((str(h.number), where, speaker, h))
    if not rows:
        return []
    wn = max(cell_width(r[0]) for r in rows)
    ww = max(cell_width(r[1]) for r in rows)
    ws = max(cell_width(r[2]) for r in rows)
    if context is None:
        fixed = wn + ww + ws + 6 + 6  # the gaps and the two bars
        typical = sorted(cell_width(terminal_text(h.match)) for h in hits)[len(hits) // 2]
        context = max(10, (width - fixed - typical) // 2)
    lines = [KwicLine(n, where, speaker, *kwic(h, context)) for n, where, speaker, h in rows]
    wl = max(cell_width(r.left) for r in lines)
    wm = max(cell_width(r.match) for r in lines)
    return [
        f"{pad_left(r.number, wn)}  {pad_right(r.where, ww)}  {pad_right(r.speaker, ws)}  "
        f"{pad_left(r.left, wl)} │ {pad_right(r.match, wm)} │ {r.right}".rstrip()
        for r in lines
    ]


# --- auto-coding ------------------------------------------------------------------------------


def choose_hits(result: SearchResult, only: Sequence[int] | None) -> list[Hit]:
    """The hits ``only`` names (all when None); a number that is not a hit is an ``InputError``."""
    if only is None:
        return list(result.hits)
    wrong = sorted({n for n in only if not 1 <= n <= len(result.hits)})
    if wrong:
        raise InputError(
            f"--only {','.join(map(str, wrong))}: no such hit "
            f"(this search has {len(result.hits)} hits, numbered from 1)"
        )
    chosen = set(only)
    return [h for h in result.hits if h.number in chosen]


def parse_only(text: str | None) -> list[int] | None:
    """``1,3,7`` or ``2-5,9`` as hit numbers (None for none given)."""
    if text is None:
        return None
    numbers: list[int] = []
    for part in text.split(","):
        part = part.strip()
        try:
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a or b - a > 1_000_000:
                    raise ValueError
                numbers.extend(range(a, b + 1))
            else:
                numbers.append(int(part))
        except ValueError:
            raise InputError(f"--only {text!r}: give hit numbers such as 1,3,7 or 2-5") from None
    return numbers


@dataclass(frozen=True)
class PlannedCoding:
    segment_id: int
    transcript_id: int
    transcript: str
    case: str
    position: int
    speaker: str
    round: int
    hits: tuple[int, ...]  # the hit numbers in this segment
    already: bool  # the coder has this code on the segment in this round already


@dataclass(frozen=True)
class ApplyPlan:
    coder: str
    code_id: int
    code: str  # its path
    codings: list[PlannedCoding]

    @property
    def new(self) -> list[PlannedCoding]:
        return [p for p in self.codings if not p.already]


@dataclass(frozen=True)
class ApplyOutcome:
    plan: ApplyPlan
    batch: int | None  # the search.apply audit event's id (None when nothing was new)
    coding_ids: list[int]


def _acting_coder(session: Session, actor: str | None) -> Coder:
    if not actor:
        raise BlindingError("say who is coding with --as NAME: auto-coding writes your own codings")
    coder = find_coder(session, actor)
    if coder.role == CoderRole.AUDITOR:
        raise QualcodeError(f"{coder.name} is an auditor: auditors review the coding, they do not code")
    return coder


def _resolve_code(session: Session, code_ref: str, codebook: str | None) -> tuple[Code, str]:
    book = get_codebook(session, codebook)
    resolver = CodeResolver(session, book, include_retired=True)
    code = resolver.resolve(code_ref)
    if code.status != "active":
        raise QualcodeError(inactive_code_message(session, code))
    if not code.applicable:
        raise QualcodeError(f"{code.name!r} is a grouping; apply one of its codes")
    return code, resolver.path(code)


def plan_apply(
    session: Session,
    actor: str | None,
    result: SearchResult,
    code_ref: str,
    only: Sequence[int] | None = None,
    codebook: str | None = None,
) -> ApplyPlan:
    """Which segments auto-coding would code with ``code_ref`` (nothing is written)."""
    coder = _acting_coder(session, actor)
    code, path = _resolve_code(session, code_ref, codebook)
    hits = choose_hits(result, only)
    by_segment: dict[int, list[Hit]] = {}
    for h in hits:
        by_segment.setdefault(h.segment_id, []).append(h)
    rounds = {tid: current_round(session, tid) for tid in {h.transcript_id for h in hits}}
    have = set(
        session.exec(
            select(Coding.segment_id, Coding.round).where(
                Coding.coder_id == coder.id,
                Coding.code_id == code.id,
                col(Coding.segment_id).in_(list(by_segment)),
            )
        ).all()
    )
    codings = []
    for sid, hs in by_segment.items():
        h = hs[0]
        r = rounds[h.transcript_id]
        codings.append(
            PlannedCoding(
                sid, h.transcript_id, h.transcript, h.case, h.position, h.speaker, r,
                tuple(x.number for x in hs), (sid, r) in have,
            )
        )  # fmt: skip
    return ApplyPlan(coder.name, require_id(code), path, codings)


def apply_search(
    project: Access,
    actor: str | None,
    result: SearchResult,
    code_ref: str,
    only: Sequence[int] | None = None,
    codebook: str | None = None,
) -> ApplyOutcome:
    """Code the chosen hits' segments with ``code_ref`` as ``actor``'s own codings, in one transaction:
    one ``coding.apply`` event per coding (source "search") and one ``search.apply`` event for the batch."""
    with project.transaction() as s:
        plan = plan_apply(s, actor, result, code_ref, only, codebook)
        code = s.get(Code, plan.code_id, with_for_update={"read": True}, populate_existing=True)
        if code is None or code.status != "active":  # retired meanwhile
            raise QualcodeError(inactive_code_message(s, code) if code else "the code was deleted by the lead")
        coder = find_coder(s, plan.coder)
        rows = []
        for p in plan.new:
            row = Coding(
                segment_id=p.segment_id,
                code_id=plan.code_id,
                coder_id=require_id(coder),
                round=p.round,
                source=CodingSource.SEARCH.value,
            )
            s.add(row)
            rows.append(row)
        try:
            s.flush()
        except IntegrityError:  # the same coder coded one of these segments from another window just now
            raise QualcodeError(
                f"{coder.name} coded some of these segments with {plan.code} meanwhile: nothing was written; "
                "run the search again"
            ) from None
        for row in rows:
            audit.record(s, coder.name, "coding.apply", row)
        if not rows:
            return ApplyOutcome(plan, None, [])
        ids = [require_id(r) for r in rows]
        event = audit.record(
            s,
            coder.name,
            APPLY_ACTION,
            entity="qc_coding",
            after={
                "query": result.query.text,
                "lemma": result.query.lemma,
                "regex": result.query.regex,
                "code_id": plan.code_id,
                "code": plan.code,
                "coder_id": require_id(coder),
                "coding_ids": ids,
                "segment_ids": [p.segment_id for p in plan.new],
                "hits": sorted(n for p in plan.new for n in p.hits),
            },
        )
        s.flush()
        return ApplyOutcome(plan, event.id, ids)


@dataclass(frozen=True)
class UndoOutcome:
    batch: int
    query: str
    code: str
    removed: int
    gone: int  # codings of the batch already removed by hand since


def undo_last_batch(project: Access, actor: str | None) -> UndoOutcome:
    """Take back ``actor``'s last auto-coding batch not yet undone, in one transaction (audited)."""
    with project.transaction() as s:
        coder = _acting_coder(s, actor)
        undone = set(s.exec(select(AuditEvent.entity_id).where(AuditEvent.action == UNDO_ACTION)).all())
        batches = s.exec(
            select(AuditEvent)
            .where(AuditEvent.action == APPLY_ACTION, AuditEvent.actor == coder.name)
            .order_by(col(AuditEvent.id).desc())
        ).all()
        batch = next(
            (e for e in batches if e.id not in undone and e.after is not None and e.after.get("coder_id") == coder.id),
            None,
        )
        if batch is None:
            raise QualcodeError(f"{coder.name} has no auto-coding to undo")
        after = batch.after or {}
        ids = [int(i) for i in after.get("coding_ids", [])]
        rows = list(s.exec(select(Coding).where(col(Coding.id).in_(ids), Coding.coder_id == coder.id)).all())
        for row in rows:
            now = current_round(s, s.get_one(Segment, row.segment_id).transcript_id)
            if now != row.round:
                title = s.get_one(Transcript, s.get_one(Segment, row.segment_id).transcript_id).title
                raise QualcodeError(
                    f"cannot undo: the lead opened round {now} for {title!r} since; round {row.round} is kept as it was"
                )
        for row in rows:
            audit.record(s, coder.name, "coding.remove", row, before=row)
            s.delete(row)
        audit.record(
            s,
            coder.name,
            UNDO_ACTION,
            entity="qc_audit",
            entity_id=batch.id,
            after={"removed": [require_id(r) for r in rows], "batch": batch.id},
        )
        return UndoOutcome(
            require_id(batch), str(after.get("query", "")), str(after.get("code", "")), len(rows), len(ids) - len(rows)
        )


def applied_counts(plan: ApplyPlan) -> Counter[str]:
    """How many segments are new and how many were coded already (for a preview's summary)."""
    return Counter("already" if p.already else "new" for p in plan.codings)
