"""Retrieval: every segment coded with a code (or a code under it) in one layer, with its context.

A coder retrieves their own codings while the project is blinded; the lead and auditors (or anyone
once the lead has unblinded) choose any layer: a coder's, or the consensus. A coder's layer is their
codings in, per transcript, the latest round they worked in (``layers.layer_select``). The results
are frozen dataclasses, for the CLI (``qualcode retrieve``), the workbench's retrieval screen and
exports alike (``retrieval_table``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from ..codebook.lookup import CodeResolver, get_codebook
from ..errors import BlindingError, InputError
from ..store.access import Access
from ..store.enums import CoderRole
from ..store.ids import require_id, wide_select
from ..store.models import SPEAKER_ROLES, Case, Code, ConsensusDecision, Segment, Speaker, Transcript
from ..table import Table
from .blinding import find_coder, visible_coder_ids
from .layers import CONSENSUS, Layer, layer_select, named_layer
from .queries import coder_names_in
from .segments import IN_LIST_LIMIT, segments_with_speakers

MAX_CONTEXT = 20  # neighbouring segments on each side, at most


@dataclass(frozen=True)
class Neighbour:
    """A segment next to a retrieved one (``offset`` -2, -1 before it; 1, 2 after it)."""

    segment_id: int
    position: int
    offset: int
    speaker: str
    role: str
    text: str


@dataclass(frozen=True)
class Retrieved:
    """One segment with the code (or codes under it) in the layer."""

    number: int  # 1-based, in the order shown
    segment_id: int
    transcript_id: int
    transcript: str
    case: str
    position: int
    speaker: str
    role: str
    start: int
    end: int
    text: str
    codes: tuple[str, ...]  # the paths of the codes found on the segment: the code, or codes under it
    quotes: tuple[str, ...]  # where a coding is narrowed to a quote: the quoted words
    before: tuple[Neighbour, ...] = ()
    after: tuple[Neighbour, ...] = ()


@dataclass(frozen=True)
class Retrieval:
    code: str  # the code's path
    code_id: int
    codebook: str
    layer: str  # "consensus" or a coder's name
    case: str | None
    role: str | None
    context: int
    items: tuple[Retrieved, ...]
    layers: tuple[str, ...]  # the layers this viewer may choose

    @property
    def segments(self) -> int:
        return len(self.items)

    def describe(self) -> str:
        where = "".join([f", case {self.case}" if self.case else "", f", {self.role} turns" if self.role else ""])
        n = len(self.items)
        layer = "the consensus" if self.layer == CONSENSUS else f"{self.layer}'s codings"
        return f"{self.code}: {n} segment{'s' * (n != 1)} in {layer}{where}"


def _speaker(label: str | None, pseudonym: str | None) -> str:
    return pseudonym or label or ""


def viewer_layers(session: Session, viewer: str | None) -> tuple[str, ...]:
    """The layers ``viewer`` may read: their own while blinded (a coder); otherwise the consensus
    (once a decision says a code is present) and every coder."""
    if visible_coder_ids(session, viewer) is not None:
        return (find_coder(session, viewer or "").name,)
    has_consensus = session.exec(
        select(ConsensusDecision.id).where(col(ConsensusDecision.present).is_(True)).limit(1)
    ).first()
    return ((CONSENSUS,) if has_consensus is not None else ()) + tuple(coder_names_in(session))


def choose_layer(session: Session, viewer: str | None, name: str | None) -> Layer:
    """The layer to read: ``name`` where blinding allows it. By default a coder's own; for the lead
    or an auditor the consensus once there is one, else the first coder's."""
    visible = visible_coder_ids(session, viewer)  # None: may see everyone's
    me = find_coder(session, viewer) if viewer else None
    if name is None:
        if me is not None and me.role == CoderRole.CODER:
            return Layer.of_coder(me)
        layers = viewer_layers(session, viewer)
        return named_layer(session, layers[0]) if layers else Layer.consensus()
    layer = named_layer(session, name)
    if visible is not None and (layer.is_consensus or layer.coder_id not in visible):
        whose = "the consensus" if layer.is_consensus else f"{name}'s codings"
        raise BlindingError(
            f"the project is blinded: {viewer} may not read {whose} (only their own codings, until the lead unblinds)"
        )
    return layer


def _neighbours(
    session: Session, transcript_ids: set[int], texts: dict[int, str]
) -> dict[int, list[tuple[int, int, str, str, str]]]:
    """Per transcript, its segments in order as (segment id, position, speaker, role, text)."""
    out: dict[int, list[tuple[int, int, str, str, str]]] = {}
    ids = sorted(transcript_ids)
    for start in range(0, len(ids), IN_LIST_LIMIT):
        rows = session.exec(
            wide_select(
                col(Segment.transcript_id),
                col(Segment.id),
                col(Segment.position),
                col(Segment.start),
                col(Segment.end),
                col(Speaker.label),
                col(Speaker.pseudonym),
                col(Speaker.role),
            )
            .outerjoin(Speaker, col(Speaker.id) == Segment.speaker_id)
            .where(col(Segment.transcript_id).in_(ids[start : start + IN_LIST_LIMIT]))
            .order_by(col(Segment.transcript_id), col(Segment.position))
        ).all()
        for tid, sid, pos, a, b, label, pseud, role in rows:
            out.setdefault(tid, []).append((sid, pos, _speaker(label, pseud), role or "", texts[tid][a:b]))
    return out


def retrieve_in(
    session: Session,
    viewer: str | None,
    code: str,
    *,
    layer: str | None = None,
    codebook: str | None = None,
    case: str | None = None,
    role: str | None = None,
    context: int = 0,
) -> Retrieval:
    """Every segment with ``code`` (a name, key or path; codes under it too) in the layer, in case,
    transcript and position order; ``context`` neighbouring segments on each side."""
    if not 0 <= context <= MAX_CONTEXT:
        raise InputError(f"--context {context}: give 0 to {MAX_CONTEXT} neighbouring segments")
    if role is not None and role not in SPEAKER_ROLES:
        raise InputError(f"unknown speaker role {role!r} (roles: {', '.join(SPEAKER_ROLES)})")
    if case is not None and session.exec(select(Case.id).where(Case.name == case)).first() is None:
        raise InputError(f"unknown case {case!r} (see `qualcode cases`)")
    book = get_codebook(session, codebook)
    resolver = CodeResolver(session, book, include_retired=True)
    found = resolver.resolve(code)
    wanted = {require_id(found)}
    grew = True
    while grew:  # the code and every code under it
        more = {require_id(c) for c in resolver.codes if c.parent_id in wanted} - wanted
        wanted |= more
        grew = bool(more)
    chosen = choose_layer(session, viewer, layer)
    layers = viewer_layers(session, viewer)
    by_segment: dict[int, list[tuple[int, int | None, int | None]]] = {}
    for sid, code_id, qs, qe in session.exec(layer_select(chosen.coder_id, codebook_id=require_id(book))).all():
        if code_id in wanted:
            by_segment.setdefault(sid, []).append((code_id, qs, qe))
    rows: list[tuple] = []
    ids = sorted(by_segment)
    for start in range(0, len(ids), IN_LIST_LIMIT):
        stmt = segments_with_speakers().where(col(Segment.id).in_(ids[start : start + IN_LIST_LIMIT]))
        if case is not None:
            stmt = stmt.where(Case.name == case)
        if role is not None:
            stmt = stmt.where(Speaker.role == role)
        rows += session.exec(stmt).all()
    rows.sort(key=lambda r: (r[3] or "", r[2], r[1], r[4]))
    tids = {r[1] for r in rows}
    texts: dict[int, str] = {}
    tid_list = sorted(tids)
    for start in range(0, len(tid_list), 500):
        part = tid_list[start : start + 500]
        texts.update(
            (require_id(t), text)
            for t, text in session.exec(select(Transcript.id, Transcript.text).where(col(Transcript.id).in_(part)))
        )
    around = _neighbours(session, tids, texts) if context else {}
    places = {seg[0]: i for order in around.values() for i, seg in enumerate(order)}  # segment id -> index
    items: list[Retrieved] = []
    for number, (sid, tid, title, case_name, pos, a, b, label, pseud, speaker_role) in enumerate(rows, start=1):
        text = texts[tid]
        codings = sorted(by_segment[sid], key=lambda c: resolver.path(c[0]))
        before: tuple[Neighbour, ...] = ()
        after: tuple[Neighbour, ...] = ()
        if context:
            order = around[tid]
            index = places[sid]
            before = tuple(
                Neighbour(s, p, i - index, sp, r, t)
                for i, (s, p, sp, r, t) in enumerate(
                    order[max(0, index - context) : index], start=max(0, index - context)
                )
            )
            after = tuple(
                Neighbour(s, p, i - index, sp, r, t)
                for i, (s, p, sp, r, t) in enumerate(order[index + 1 : index + 1 + context], start=index + 1)
            )
        items.append(
            Retrieved(
                number=number,
                segment_id=sid,
                transcript_id=tid,
                transcript=title,
                case=case_name or "",
                position=pos,
                speaker=_speaker(label, pseud),
                role=speaker_role or "",
                start=a,
                end=b,
                text=text[a:b],
                codes=tuple(dict.fromkeys(resolver.path(c) for c, _, _ in codings)),
                quotes=tuple(text[qs:qe] for _, qs, qe in codings if qs is not None and qe is not None),
                before=before,
                after=after,
            )
        )
    return Retrieval(
        code=resolver.path(found),
        code_id=require_id(found),
        codebook=book.name,
        layer=chosen.name,
        case=case,
        role=role,
        context=context,
        items=tuple(items),
        layers=layers,
    )


def retrieve(
    project: Access,
    viewer: str | None,
    code: str,
    *,
    layer: str | None = None,
    codebook: str | None = None,
    case: str | None = None,
    role: str | None = None,
    context: int = 0,
) -> Retrieval:
    """``retrieve_in`` in a read session of its own (for the workbench)."""
    with project.read() as s:
        return retrieve_in(s, viewer, code, layer=layer, codebook=codebook, case=case, role=role, context=context)


def neighbours(project: Access, segment_id: int, context: int) -> tuple[tuple[Neighbour, ...], tuple[Neighbour, ...]]:
    """The ``context`` segments before and after ``segment_id`` in its transcript (shared text, no codings)."""
    with project.read() as s:
        segment = s.get(Segment, segment_id)
        if segment is None:
            raise InputError(f"no segment with id {segment_id}")
        text = s.exec(select(Transcript.text).where(Transcript.id == segment.transcript_id)).one()
        order = _neighbours(s, {segment.transcript_id}, {segment.transcript_id: text})[segment.transcript_id]
    index = next(i for i, seg in enumerate(order) if seg[0] == segment_id)
    lo = max(0, index - context)
    before = tuple(Neighbour(sid, p, i - index, sp, r, t) for i, (sid, p, sp, r, t) in enumerate(order[lo:index], lo))
    after = tuple(
        Neighbour(sid, p, i - index, sp, r, t)
        for i, (sid, p, sp, r, t) in enumerate(order[index + 1 : index + 1 + context], index + 1)
    )
    return before, after


@dataclass(frozen=True)
class RetrievalChoices:
    """What the retrieval screen offers: the active codebook's codes, the layers, cases and roles."""

    codebook: str
    codes: tuple[str, ...]  # paths, in codebook order
    layers: tuple[str, ...]
    cases: tuple[str, ...]
    roles: tuple[str, ...]


def retrieval_choices(project: Access, viewer: str | None, codebook: str | None = None) -> RetrievalChoices:
    with project.read() as s:
        book = get_codebook(s, codebook)
        resolver = CodeResolver(s, book)
        live = [c for c in resolver.codes if c.status == "active"]
        paths = sorted((resolver.path(c) for c in live), key=lambda p: _tree_order(resolver, p))
        cases = tuple(s.exec(select(Case.name).order_by(col(Case.name))).all())
        used_roles = set(s.exec(select(Speaker.role).distinct()).all())
        return RetrievalChoices(
            codebook=book.name,
            codes=tuple(paths),
            layers=viewer_layers(s, viewer),
            cases=cases,
            roles=tuple(r for r in SPEAKER_ROLES if r in used_roles),
        )


def _tree_order(resolver: CodeResolver, path: str) -> tuple[int, ...]:
    code: Code | None = resolver.by_path[path.casefold()]
    order: list[int] = []
    while code is not None:
        order.insert(0, code.position)
        code = resolver.by_id.get(code.parent_id) if code.parent_id else None
    return tuple(order)


RETRIEVAL_COLUMNS = ["#", "case", "transcript", "segment", "speaker", "role", "codes", "text"]


def _context_text(neighbours: Sequence[Neighbour]) -> str:
    return "\n".join(
        f"[{n.position}] {n.speaker}: {n.text}" if n.speaker else f"[{n.position}] {n.text}" for n in neighbours
    )


def retrieval_table(result: Retrieval) -> Table:
    """The retrieval as a table for every export format (context columns when asked for)."""
    columns = list(RETRIEVAL_COLUMNS)
    if any(item.quotes for item in result.items):
        columns.append("quotes")
    if result.context:
        columns[columns.index("text") : columns.index("text")] = ["before"]
        columns.append("after")
    rows = []
    for item in result.items:
        row: dict[str, object] = {
            "#": item.number,
            "case": item.case,
            "transcript": item.transcript,
            "segment": item.position,
            "speaker": item.speaker,
            "role": item.role,
            "codes": "; ".join(item.codes),
            "text": item.text,
            "quotes": " … ".join(item.quotes),
            "before": _context_text(item.before),
            "after": _context_text(item.after),
        }
        rows.append([row[c] for c in columns])
    note = f"Codebook {result.codebook}; layer {result.layer}; codes under {result.code} included."
    return Table(columns=columns, rows=rows, title=f"Retrieval: {result.describe()}", note=note)


def retrieval_json(result: Retrieval) -> dict[str, object]:
    """The retrieval as JSON data (every field, neighbours as lists)."""
    from dataclasses import asdict

    return {
        "code": result.code,
        "codebook": result.codebook,
        "layer": result.layer,
        "case": result.case,
        "role": result.role,
        "context": result.context,
        "segments": [asdict(item) for item in result.items],
    }
