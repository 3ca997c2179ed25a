"""The report from the sparse coded cells equals, figure for figure, the old dense computation.

The old implementation is kept below as the reference: the loader that built dense
``present[coders, units, codes]`` arrays and the statistics computed over them (as they
were before the sparse rework; their published values are checked by
test_agreement_report.py and the other agreement tests). Hypothesis draws small studies
and both must give the same JSON, byte for byte.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qualcode.agreement import binary, report
from qualcode.agreement import data as agreement_data
from qualcode.agreement.data import (
    AgreementData,
    _consensus,
    _level_columns,
    _read_codings,
    _read_statuses,
    _segment_map,
    coded_cells,
    coder_rows,
    counting_rounds,
    report_codes,
)
from qualcode.agreement.reading import max_id
from qualcode.agreement.statistics import kappa_from_parts
from qualcode.store.ids import require_id
from qualcode.store.models import Code

# -- the old dense implementation (reference) ----------------------------------------------------------


@dataclass
class DenseData:
    coders: list[str]
    codes: list
    code_paths: list[str]
    segment_ids: np.ndarray
    transcript_ids: np.ndarray
    case_ids: np.ndarray
    done: np.ndarray
    present: np.ndarray
    level: str = "code"
    extra: dict = field(default_factory=dict)
    coders_without_work: list[str] = field(default_factory=list)

    def subset(self, unit_mask: np.ndarray) -> DenseData:
        return DenseData(
            self.coders,
            self.codes,
            self.code_paths,
            self.segment_ids[unit_mask],
            self.transcript_ids[unit_mask],
            self.case_ids[unit_mask],
            self.done[:, unit_mask],
            self.present[:, unit_mask],
            self.level,
            self.extra,
            self.coders_without_work,
        )


def dense_load(session, codebook, coders=None, round=None, level=None, between=None) -> DenseData:
    """The loader as it was: a dense coders x units x codes array."""
    from sqlmodel import select

    chosen, left_out = coder_rows(session, coders, round)
    level = level or ("category" if codebook.kind == "cqr" else "code")
    position = {c.coder_id: i for i, c in enumerate(chosen) if c.coder_id is not None}
    consensus_at = next((i for i, c in enumerate(chosen) if c.is_consensus), None)
    transcript_of, case_of = _segment_map(session)
    code_base = max_id(session, Code.id) + 1
    codebook_codes = np.zeros(code_base, dtype=bool)
    in_codebook = session.exec(select(Code.id).where(Code.codebook_id == codebook.id)).all()
    codebook_codes[np.array(in_codebook, dtype=np.int64)] = True
    codings = _read_codings(session, list(position), round, between, code_base)
    statuses = _read_statuses(session, list(position), round, between)
    if round is None:
        kept = counting_rounds(codings + statuses, transcript_of, len(case_of))
        codings, statuses = kept[: len(codings)], kept[len(codings) :]
    codings = [g.keep(codebook_codes[g.codes]) for g in codings]
    used = np.zeros(code_base, dtype=bool)
    for g in codings:
        used[g.codes] = True
    consensus_done = consensus_segments = consensus_codes = np.empty(0, dtype=np.int64)
    if consensus_at is not None:
        consensus_done, consensus_segments, consensus_codes = _consensus(session, code_base, between, codebook_codes)
        used[consensus_codes] = True
    codes, paths = report_codes(session, codebook, set(np.flatnonzero(used).tolist()))
    column_of = np.full(code_base, -1, dtype=np.int64)
    column_of[[require_id(c) for c in codes]] = np.arange(len(codes))
    segment_ids = np.unique(np.concatenate([consensus_done, *(g.segment_ids for g in statuses)]))
    unit_of = np.full(len(transcript_of), -1, dtype=np.int64)
    unit_of[segment_ids] = np.arange(len(segment_ids))
    n_coders, n_units, n_codes = len(chosen), len(segment_ids), len(codes)
    done = np.zeros((n_coders, n_units), dtype=bool)
    for g in statuses:
        done[position[g.coder_id], unit_of[g.segment_ids]] = True
    present = np.zeros(n_coders * n_units * n_codes, dtype=bool)

    def mark(coder: int, seg: np.ndarray, code: np.ndarray) -> None:
        unit, column = unit_of[seg], column_of[code]
        counted = (unit >= 0) & (column >= 0)
        counted[counted] = done[coder, unit[counted]]
        present[(coder * n_units + unit[counted]) * n_codes + column[counted]] = True

    for g in codings:
        mark(position[g.coder_id], g.segment_ids, g.codes)
    if consensus_at is not None:
        done[consensus_at] = np.isin(segment_ids, consensus_done)
        mark(consensus_at, consensus_segments, consensus_codes)
    present = present.reshape(n_coders, n_units, n_codes)
    columns, mapping = _level_columns(codes, level)
    if level != "code":
        present = (present.reshape(-1, n_codes).astype(np.uint8) @ mapping.astype(np.uint8) > 0).reshape(
            n_coders, n_units, len(columns)
        )
    transcript_ids = transcript_of[segment_ids]
    return DenseData(
        [c.name for c in chosen],
        columns,
        [paths[require_id(c)] for c in columns],
        segment_ids,
        transcript_ids,
        case_of[transcript_ids],
        done,
        present,
        level,
        coders_without_work=left_out,
    )


def dense_stats(data) -> dict[str, Any]:
    """The report's statistics over the dense arrays, as they were computed before the sparse rework."""
    done, x = data.done, data.present
    out: dict[str, Any] = {"pairs": []}
    for i, j in combinations(range(len(data.coders)), 2):
        mask = done[i] & done[j]
        p_o, p_e = binary.pair_parts(x[i][mask], x[j][mask])
        out["pairs"].append(
            {
                "index": (i, j),
                "units": int(mask.sum()),
                "p_o": p_o,
                "p_e": p_e,
                "kappa": kappa_from_parts(p_o, p_e),
                "pooled": kappa_from_parts(p_o.mean(axis=-1), p_e.mean(axis=-1)) if p_o.shape[-1] else np.nan,
            }
        )
    all_done = done.all(axis=0)
    applied = x.sum(axis=0, dtype=np.min_scalar_type(len(data.coders)))
    finished = done.sum(axis=0)
    parts = binary.multi_parts(applied[all_done], len(data.coders))
    out["multi"] = parts
    out["kappas"] = binary.kappas(parts)
    defined = applied.shape[1]
    out["fleiss_pooled"] = (
        kappa_from_parts(parts["p_o"].mean(axis=-1), parts["fleiss"].mean(axis=-1)) if defined else np.nan
    )
    out["ac1_pooled"] = kappa_from_parts(parts["p_o"].mean(axis=-1), parts["ac1"].mean(axis=-1)) if defined else np.nan
    a = binary.alpha_parts(applied, finished)
    out["alpha"] = binary.alpha_from_parts(a["o01"], a["n0"], a["n1"])
    out["alpha_pooled"] = binary.alpha_from_parts(a["o01"].sum(axis=-1), a["n0"].sum(axis=-1), a["n1"].sum(axis=-1))
    out["units"] = int(all_done.sum())
    out["units_any"] = int((finished > 0).sum())
    out["disagreements"] = np.count_nonzero(
        (applied > 0) & (applied < finished[:, None]) & (finished[:, None] >= 2), axis=0
    )
    out["shares"] = (
        [np.count_nonzero(x[c][all_done], axis=0) / all_done.sum() for c in range(len(data.coders))]
        if all_done.any()
        else None
    )
    return out


def dense_report(session, **options) -> dict:
    """The whole report through the old dense loader and statistics."""
    with (
        mock.patch.object(report, "load", dense_load),
        mock.patch.object(report, "_sparse_stats", dense_stats),
    ):
        return report.agreement_report(session, "lead", **options).to_json()


def as_text(doc: dict) -> str:
    return json.dumps(doc, sort_keys=True)


# -- arrays straight in: many small studies, every statistic ---------------------------------------


class FakeCode:
    def __init__(self, k: int) -> None:
        self.id, self.name, self.key, self.status = k + 1, f"Code {k + 1}", None, "active"


@st.composite
def arrays(draw) -> tuple[np.ndarray, np.ndarray]:
    coders = draw(st.integers(2, 4))
    units = draw(st.integers(0, 12))
    codes = draw(st.integers(0, 4))
    done = np.array(draw(st.lists(st.booleans(), min_size=coders * units, max_size=coders * units)), dtype=bool)
    cells = coders * units * codes
    present = np.array(draw(st.lists(st.booleans(), min_size=cells, max_size=cells)), dtype=bool)
    done = done.reshape(coders, units)
    return done, present.reshape(coders, units, codes) & done[:, :, None]


def both(done: np.ndarray, present: np.ndarray) -> tuple[AgreementData, DenseData]:
    coders, units, codes = present.shape
    names = [f"c{i}" for i in range(coders)]
    fake = [FakeCode(k) for k in range(codes)]
    paths = [c.name for c in fake]
    seg = np.arange(units) + 1
    zeros = np.zeros(units, dtype=np.int64)
    c, u, k = np.nonzero(present)
    cell_units, cell_codes, marks = coded_cells(
        [(i, u[c == i], k[c == i]) for i in range(coders)] + [(0, u[c == 0], k[c == 0])],  # repeats are harmless
        coders,
        codes,
    )
    sparse = AgreementData(names, fake, paths, seg, zeros, zeros, done, cell_units, cell_codes, marks)  # type: ignore[arg-type]
    return sparse, DenseData(names, fake, paths, seg, zeros, zeros, done, present)


@settings(max_examples=80, deadline=None)
@given(arrays())
def test_every_statistic_equals_the_dense_computation(drawn):
    done, present = drawn
    sparse, dense = both(done, present)
    assert np.array_equal(sparse.present, present)
    assert as_text(report.summarise(sparse).to_json()) == as_text(_old(dense))
    half = done.shape[1] // 2
    mask = np.arange(done.shape[1]) < half
    part = sparse.subset(mask)
    assert np.array_equal(part.present, present[:, mask])
    assert as_text(report.summarise(part).to_json()) == as_text(_old(dense.subset(mask)))


def _old(data: DenseData) -> dict:
    with mock.patch.object(report, "_sparse_stats", dense_stats):
        return report.summarise(data).to_json()  # type: ignore[arg-type]


@settings(max_examples=15, deadline=None)
@given(arrays(), st.integers(0, 3))
def test_seeded_intervals_equal_the_dense_computation(drawn, seed):
    done, present = drawn
    sparse, dense = both(done, present)
    new = report.summarise(sparse, ci=True, resamples=30, seed=seed).to_json()
    with mock.patch.object(report, "_sparse_stats", dense_stats):
        old = report.summarise(dense, ci=True, resamples=30, seed=seed).to_json()  # type: ignore[arg-type]
    assert as_text(new) == as_text(old)


# -- whole studies in a project: rounds, consensus, levels, slices ---------------------------------


@pytest.fixture(scope="module")
def empty_project(tmp_path_factory) -> Path:
    from qualcode.project import Project

    path = tmp_path_factory.mktemp("sparse") / "empty.db"
    Project(path, create=True).close()
    return path


NOW = "2024-05-01 00:00:00"
SEGMENTS, CODES = 8, 6  # codes 1-2 are domains; 3-4 under 1, 5-6 under 2


@st.composite
def studies(draw) -> dict:
    coders = draw(st.integers(2, 4))
    rounds = draw(st.sampled_from([(1,), (1, 2)]))
    cells = [(c, s, k, r) for c in range(coders) for s in range(SEGMENTS) for k in range(CODES) for r in rounds]
    applied = draw(st.lists(st.sampled_from([True, False, False, False]), min_size=len(cells), max_size=len(cells)))
    codings = [cell for cell, yes in zip(cells, applied) if yes]
    marks = [(c, s, r) for c in range(coders) for s in range(SEGMENTS) for r in rounds]
    finished = draw(st.lists(st.sampled_from([True, True, True, False]), min_size=len(marks), max_size=len(marks)))
    done = [mark for mark, yes in zip(marks, finished) if yes]
    decided = draw(
        st.lists(st.tuples(st.integers(0, SEGMENTS - 1), st.integers(0, CODES - 1), st.booleans()), max_size=10)
    )
    return {
        "coders": coders,
        "codings": codings,
        "done": done,
        "consensus": {(s, k): p for s, k, p in decided},
        "kind": draw(st.sampled_from(["provisional", "cqr"])),
        "compare": draw(st.sampled_from(["default", "with consensus", "named"])),
        "level": draw(st.sampled_from([None, "code", "domain", "category"])),
        "by": draw(st.sampled_from(report.SLICES)),
        "round": draw(st.sampled_from([None, 1])),
    }


def write_study(path: Path, study: dict) -> None:
    con = sqlite3.connect(path)
    con.execute("INSERT INTO qc_case (id, name, description, created_at) VALUES (1, 'Case A', '', ?)", (NOW,))
    con.executemany(
        "INSERT INTO qc_transcript (id, title, kind, case_id, source_name, source_format, content_hash, unit, text,"
        " created_at) VALUES (?, ?, 'interview', ?, '', '', ?, 'turn', 'xxxx', ?)",
        [(1, "T1", 1, "h1", NOW), (2, "T2", None, "h2", NOW)],
    )
    con.executemany(
        "INSERT INTO qc_segment (id, transcript_id, position, start, \"end\", unit) VALUES (?, ?, ?, ?, ?, 'turn')",
        [(s + 1, 1 + s * 2 // SEGMENTS, s + 1, s, s + 1) for s in range(SEGMENTS)],
    )
    con.execute(
        "INSERT INTO qc_codebook (id, name, kind, description, active, version, source_name, created_at)"
        " VALUES (1, 'Book', ?, '', 1, 2, '', ?)",
        (study["kind"], NOW),
    )
    con.execute(
        "INSERT INTO qc_codebook_version (codebook_id, number, change, summary, actor, created_at, snapshot)"
        " VALUES (1, 1, 'load', '', 'lead', '2024-01-01 00:00:00', '{}'), (1, 2, 'edit', '', 'lead', ?, '{}')",
        ("2024-05-01 00:00:00",),
    )
    parents = {1: None, 2: None, 3: 1, 4: 1, 5: 2, 6: 2}
    con.executemany(
        "INSERT INTO qc_code (id, codebook_id, parent_id, guid, name, brief, definition, inclusion, exclusion,"
        " example, applicable, position, status, created_version) VALUES (?, 1, ?, ?, ?, '', '', '', '', '', 1, ?,"
        " 'active', 1)",
        [(k, parents[k], f"g{k}", f"Code {k}", k) for k in range(1, CODES + 1)],
    )
    coders = [(c + 1, f"coder{c + 1}", "coder", NOW) for c in range(study["coders"])]
    con.executemany("INSERT INTO qc_coder (id, name, role, created_at) VALUES (?, ?, ?, ?)", coders)
    con.execute("INSERT INTO qc_coder (id, name, role, created_at) VALUES (99, 'lead', 'lead', ?)", (NOW,))
    when = ["2024-04-01 00:00:00", "2024-06-01 00:00:00"]  # before and after version 2
    con.executemany(
        "INSERT INTO qc_coding (segment_id, code_id, coder_id, round, created_at) VALUES (?, ?, ?, ?, ?)",
        [(s + 1, k + 1, c + 1, r, when[(s + k) % 2]) for c, s, k, r in study["codings"]],
    )
    con.executemany(
        "INSERT INTO qc_segment_status (segment_id, coder_id, round, done_at) VALUES (?, ?, ?, ?)",
        [(s + 1, c + 1, r, when[s % 2]) for c, s, r in study["done"]],
    )
    con.executemany(
        "INSERT INTO qc_consensus (segment_id, code_id, present, method, round, decided_by, decided_at)"
        " VALUES (?, ?, ?, 'discussed', 1, 'lead', ?)",
        [(s + 1, k + 1, p, when[s % 2]) for (s, k), p in study["consensus"].items()],
    )
    con.commit()
    con.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(studies())
def test_the_report_equals_the_dense_computation(empty_project, tmp_path_factory, study):
    from qualcode.errors import QualcodeError
    from qualcode.project import Project

    path = tmp_path_factory.mktemp("study") / "study.db"
    shutil.copy(empty_project, path)
    write_study(path, study)
    names = [f"coder{c + 1}" for c in range(study["coders"])]
    coders = {"default": None, "with consensus": [*names[:2], "consensus"], "named": names[::-1]}[study["compare"]]
    options = {"coders": coders, "level": study["level"], "by": study["by"], "round": study["round"]}
    with Project(path) as p, p.read() as s:
        try:
            old = dense_report(s, **options)
        except QualcodeError as refused:
            with pytest.raises(QualcodeError, match=str(refused)):
                report.agreement_report(s, "lead", **options)
            return
        new = report.agreement_report(s, "lead", **options).to_json()
        assert as_text(new) == as_text(old)
        sparse = agreement_data.load(s, report.get_codebook(s, None), coders, study["round"], study["level"])
        dense = dense_load(s, report.get_codebook(s, None), coders, study["round"], study["level"])
        assert np.array_equal(sparse.present, dense.present) and np.array_equal(sparse.done, dense.done)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 3), st.lists(st.integers(0, 11), min_size=1, max_size=6)), max_size=4))
def test_with_one_round_every_row_counts(work):
    """The one-round short cut of ``counting_rounds`` keeps what ``round_that_counts`` says counts: everything."""
    from qualcode.agreement.data import Decisions, round_that_counts

    transcript_of = np.repeat(np.arange(3), 4)
    groups = [Decisions(coder, 1, np.array(segments)) for coder, segments in work]
    kept = counting_rounds(groups, transcript_of, 3)
    for t in range(3):
        worked = {g.coder_id: {1} for g in groups if (transcript_of[g.segment_ids] == t).any()}
        assert all(r == 1 for r in round_that_counts(worked).values())
    assert [k.segment_ids.tolist() for k in kept] == [g.segment_ids.tolist() for g in groups]
