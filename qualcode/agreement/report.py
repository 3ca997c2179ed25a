"""The project agreement report: per code, overall, and by case, transcript, round or codebook version.

``agreement_report`` returns an ``AgreementReport``; its ``to_json`` is the document with
stable keys (see docs/agreement.md) and ``report_table`` turns it into the shared ``Table``.
``per_code`` rows carry ``code_id`` for drilling into the disagreement queue.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from ..codebook.lookup import get_codebook
from ..coding.blinding import require_reader
from ..errors import QualcodeError
from ..store.ids import require_id
from ..store.models import Case, Codebook, CodebookVersion, Coding, SegmentStatus, Transcript
from ..table import Table, apa_statistic
from . import binary
from .data import AgreementData, load
from .statistics import cicchetti, kappa_from_parts, landis_koch, percentile_interval

SLICES = ("code", "case", "transcript", "round", "version")
CI_CHUNK = 100  # bootstrap replicates computed together (bounds memory)


def _num(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


def _sparse_stats(data: AgreementData) -> dict[str, Any]:
    """Every statistic of the report, from per-code counts over the coded cells.

    A unit where nobody applied a code has no cell; it is counted as the units left
    over (all units minus those with a cell for that code). The counts go through the
    same float operations as the dense arrays' (``binary.*_from_counts``), so every
    figure is bit-identical to ``_stats(data)``; the time follows the codings.
    """
    done, marks, units, codes = data.done, data.cell_marks, data.cell_units, data.cell_codes
    n_coders, n_codes = len(data.coders), len(data.codes)

    def per_code(cells: np.ndarray) -> np.ndarray:
        return np.bincount(codes[cells], minlength=n_codes)

    out: dict[str, Any] = {"pairs": []}
    for i, j in combinations(range(n_coders), 2):
        mask = done[i] & done[j]
        both_done = mask[units]
        a, b = marks[:, i] & both_done, marks[:, j] & both_done
        p_o, p_e = binary.pair_parts_from_counts(
            np.asarray(float(mask.sum())),
            per_code(a).astype(np.float64),
            per_code(b).astype(np.float64),
            per_code(a & b).astype(np.float64),
        )
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
    all_done: np.ndarray = np.all(done, axis=0)  # np.all: numpy types done.all() as maybe a scalar
    finished = done.sum(axis=0)
    applied = marks.sum(axis=1)  # per cell: coders who applied its code (each of them finished the unit)
    cell_finished = finished[units]

    def value_counts(cells: np.ndarray, n_units: int, values: int) -> np.ndarray:
        """counts[v, k]: of ``n_units`` units, those where v coders applied code k (v = 0: no cell)."""
        counts = np.zeros((values, n_codes), dtype=np.int64)
        for v in range(1, values):
            counts[v] = per_code(cells & (applied == v))
        counts[0] = n_units - counts[1:].sum(axis=0)
        return counts

    parts = binary.multi_parts_from_counts(
        value_counts(all_done[units], int(all_done.sum()), n_coders + 1), int(all_done.sum()), n_coders
    )
    out["multi"] = parts
    out["kappas"] = binary.kappas(parts)
    out["fleiss_pooled"] = (
        kappa_from_parts(parts["p_o"].mean(axis=-1), parts["fleiss"].mean(axis=-1)) if n_codes else np.nan
    )
    out["ac1_pooled"] = kappa_from_parts(parts["p_o"].mean(axis=-1), parts["ac1"].mean(axis=-1)) if n_codes else np.nan
    finishing = np.bincount(finished, minlength=3)  # units by how many coders finished them
    a = binary.alpha_parts_from_counts(
        [
            (m, value_counts(cell_finished == m, int(finishing[m]), m + 1))
            for m in (np.flatnonzero(finishing[2:]) + 2).tolist()  # ascending, as np.unique gives them
        ],
        n_codes,
    )
    out["alpha"] = binary.alpha_from_parts(a["o01"], a["n0"], a["n1"])
    out["alpha_pooled"] = binary.alpha_from_parts(a["o01"].sum(axis=-1), a["n0"].sum(axis=-1), a["n1"].sum(axis=-1))
    out["units"] = int(all_done.sum())
    out["units_any"] = int((finished > 0).sum())
    out["disagreements"] = per_code((applied < cell_finished) & (cell_finished >= 2))
    out["shares"] = (
        [per_code(marks[:, c] & all_done[units]) / all_done.sum() for c in range(n_coders)] if all_done.any() else None
    )
    return out


def _stats(data: AgreementData, weights: np.ndarray | None = None) -> dict[str, Any]:
    """Every statistic of the report over the dense arrays, for one unit weighting (the bootstrap's resamples).

    ``_sparse_stats`` gives the same figures for the data as it is.
    """
    done, x = data.done, data.present
    out: dict[str, Any] = {"pairs": []}
    for i, j in combinations(range(len(data.coders)), 2):
        mask = done[i] & done[j]
        w = None if weights is None else weights[..., mask]
        p_o, p_e = binary.pair_parts(x[i][mask], x[j][mask], w)
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
    out["applied"] = applied = x.sum(axis=0, dtype=np.min_scalar_type(len(data.coders)))  # (units, codes)
    out["finished"] = finished = done.sum(axis=0)
    w = None if weights is None else weights[..., all_done]
    parts = binary.multi_parts(applied[all_done], len(data.coders), w)
    out["multi"] = parts
    out["kappas"] = binary.kappas(parts)
    out["fleiss_pooled"] = (
        kappa_from_parts(parts["p_o"].mean(axis=-1), parts["fleiss"].mean(axis=-1)) if applied.shape[1] else np.nan
    )
    out["ac1_pooled"] = (
        kappa_from_parts(parts["p_o"].mean(axis=-1), parts["ac1"].mean(axis=-1)) if applied.shape[1] else np.nan
    )
    a = binary.alpha_parts(applied, finished, weights)
    out["alpha"] = binary.alpha_from_parts(a["o01"], a["n0"], a["n1"])
    out["alpha_pooled"] = binary.alpha_from_parts(a["o01"].sum(axis=-1), a["n0"].sum(axis=-1), a["n1"].sum(axis=-1))
    out["units"] = int(all_done.sum())
    return out


def _pooled_mean(stats: dict[str, Any]) -> np.ndarray:
    return np.nanmean(np.stack([np.asarray(p["pooled"], dtype=float) for p in stats["pairs"]]), axis=0)


def _bootstrap(data: AgreementData, resamples: int, seed: int, confidence: float) -> dict[str, Any]:
    """Percentile intervals from ``resamples`` seeded resamples of the units."""
    rng = np.random.default_rng(seed)
    n = len(data.segment_ids)
    keep: dict[str, list[np.ndarray]] = {
        k: [] for k in ("pooled", "fleiss", "alpha", "code_kappa", "code_fleiss", "code_alpha", "code_ac1")
    }
    for start in range(0, resamples, CI_CHUNK):
        b = min(CI_CHUNK, resamples - start)
        draws = rng.integers(0, n, size=(b, n))
        weights = np.zeros((b, n))
        np.add.at(weights, (np.repeat(np.arange(b), n), draws.ravel()), 1.0)
        s = _stats(data, weights)
        # one value per resample (a pooled figure is one NaN for all of them when there are no codes)
        keep["pooled"].append(np.broadcast_to(np.asarray(_pooled_mean(s), dtype=float), (b,)))
        keep["fleiss"].append(np.broadcast_to(np.asarray(s["fleiss_pooled"], dtype=float), (b,)))
        keep["alpha"].append(np.broadcast_to(np.asarray(s["alpha_pooled"], dtype=float), (b,)))
        keep["code_kappa"].append(np.nanmean(np.stack([p["kappa"] for p in s["pairs"]]), axis=0))
        keep["code_fleiss"].append(s["kappas"]["fleiss"])
        keep["code_ac1"].append(s["kappas"]["ac1"])
        keep["code_alpha"].append(s["alpha"])
    joined = {k: np.concatenate(v, axis=0) for k, v in keep.items()}

    def interval(values: np.ndarray) -> list[float | None]:
        return [_num(v) for v in percentile_interval(values, confidence)]

    per_code = [
        {
            name: interval(joined[f"code_{key}"][:, k])
            for name, key in (
                ("cohen_kappa", "kappa"),
                ("fleiss_kappa", "fleiss"),
                ("gwet_ac1", "ac1"),
                ("krippendorff_alpha", "alpha"),
            )
        }
        for k in range(len(data.codes))
    ]
    return {
        "pooled_kappa": interval(joined["pooled"]),
        "fleiss_kappa": interval(joined["fleiss"]),
        "krippendorff_alpha": interval(joined["alpha"]),
        "per_code": per_code,
        # resamples whose pooled kappa was undefined (NaN), left out of its interval
        "dropped": int(np.isnan(joined["pooled"].astype(float)).sum()),
    }


Interval = list[float | None]  # [low, high] of a percentile bootstrap interval; None where undefined


@dataclass
class CodeIntervals:
    cohen_kappa: Interval
    fleiss_kappa: Interval
    gwet_ac1: Interval
    krippendorff_alpha: Interval

    def to_json(self) -> dict[str, Any]:
        return {
            "cohen_kappa": self.cohen_kappa,
            "fleiss_kappa": self.fleiss_kappa,
            "gwet_ac1": self.gwet_ac1,
            "krippendorff_alpha": self.krippendorff_alpha,
        }


@dataclass
class PairAgreement:
    """One pair of coders on one code."""

    coders: list[str]
    units: int
    p_o: float | None
    p_e: float | None
    cohen_kappa: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "coders": self.coders,
            "units": self.units,
            "p_o": self.p_o,
            "p_e": self.p_e,
            "cohen_kappa": self.cohen_kappa,
        }


@dataclass
class PooledPair:
    """One pair of coders over every code (De Vries et al.'s pooled kappa)."""

    coders: list[str]
    units: int
    p_o: float | None
    p_e: float | None
    pooled_kappa: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "coders": self.coders,
            "units": self.units,
            "p_o": self.p_o,
            "p_e": self.p_e,
            "pooled_kappa": self.pooled_kappa,
        }


@dataclass
class CodeAgreement:
    """Every statistic for one code (or domain or category, by level)."""

    code_id: int
    code: str
    key: str | None
    path: str
    status: str
    units: int
    prevalence: dict[str, float | None]  # coder -> share of all-finished units they applied it to
    p_o: float | None
    p_e: float | None
    cohen_kappa: float | None
    pairs: list[PairAgreement]
    agreement: float | None
    fleiss_kappa: float | None
    gwet_ac1: float | None
    brennan_prediger: float | None
    krippendorff_alpha: float | None
    disagreements: int
    landis_koch: str
    cicchetti: str
    ci: CodeIntervals | None = None

    def to_json(self) -> dict[str, Any]:
        out = {
            "code_id": self.code_id,
            "code": self.code,
            "key": self.key,
            "path": self.path,
            "status": self.status,
            "units": self.units,
            "prevalence": self.prevalence,
            "p_o": self.p_o,
            "p_e": self.p_e,
            "cohen_kappa": self.cohen_kappa,
            "pairs": [p.to_json() for p in self.pairs],
            "agreement": self.agreement,
            "fleiss_kappa": self.fleiss_kappa,
            "gwet_ac1": self.gwet_ac1,
            "brennan_prediger": self.brennan_prediger,
            "krippendorff_alpha": self.krippendorff_alpha,
            "disagreements": self.disagreements,
            "landis_koch": self.landis_koch,
            "cicchetti": self.cicchetti,
        }
        if self.ci is not None:
            out["ci"] = self.ci.to_json()
        return out


@dataclass
class ReportIntervals:
    """The bootstrap intervals of the pooled statistics, and how they were drawn."""

    level: float
    resamples: int
    seed: int
    method: str
    pooled_kappa: Interval
    fleiss_kappa: Interval
    krippendorff_alpha: Interval
    dropped: int = 0  # resamples whose pooled kappa was undefined, left out of the interval

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "resamples": self.resamples,
            "seed": self.seed,
            "method": self.method,
            "pooled_kappa": self.pooled_kappa,
            "fleiss_kappa": self.fleiss_kappa,
            "krippendorff_alpha": self.krippendorff_alpha,
            "dropped": self.dropped,
        }


@dataclass
class Summary:
    """The report body for one set of units: the whole project, or one slice of it."""

    coders: list[str]
    units: int
    units_any: int
    pooled_kappa: float | None
    pooled_kappa_pairs: list[PooledPair]
    fleiss_kappa: float | None
    fleiss_kappa_mean: float | None
    gwet_ac1: float | None
    krippendorff_alpha: float | None
    krippendorff_alpha_mean: float | None
    landis_koch: str
    cicchetti: str
    per_code: list[CodeAgreement]
    ci: ReportIntervals | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "coders": self.coders,
            "units": self.units,
            "units_any": self.units_any,
            "pooled_kappa": self.pooled_kappa,
            "pooled_kappa_pairs": [p.to_json() for p in self.pooled_kappa_pairs],
            "fleiss_kappa": self.fleiss_kappa,
            "fleiss_kappa_mean": self.fleiss_kappa_mean,
            "gwet_ac1": self.gwet_ac1,
            "krippendorff_alpha": self.krippendorff_alpha,
            "krippendorff_alpha_mean": self.krippendorff_alpha_mean,
            "landis_koch": self.landis_koch,
            "cicchetti": self.cicchetti,
            "per_code": [row.to_json() for row in self.per_code],
        }
        if self.ci is not None:
            out["ci"] = self.ci.to_json()
        return out


@dataclass
class Slice:
    """The pooled statistics of one case, transcript, round or codebook version (``by``)."""

    by: str
    name: str | int  # the case's or transcript's name, the round's or version's number
    summary: Summary
    start: str | None = None  # a version's window (ISO 8601; None where open)
    until: str | None = None

    def to_json(self) -> dict[str, Any]:
        part = self.summary
        out: dict[str, Any] = {self.by: self.name}
        if self.by == "version":
            out.update({"from": self.start, "until": self.until})
        out.update(
            {
                "units": part.units,
                "pooled_kappa": part.pooled_kappa,
                "fleiss_kappa": part.fleiss_kappa,
                "gwet_ac1": part.gwet_ac1,
                "krippendorff_alpha": part.krippendorff_alpha,
                "landis_koch": part.landis_koch,
                "cicchetti": part.cicchetti,
            }
        )
        if part.ci is not None:
            out["ci"] = part.ci.to_json()
        return out


@dataclass
class AgreementReport:
    """The project agreement report; ``to_json`` is the document ``qualcode agreement --format json`` prints."""

    codebook: str
    codebook_version: int
    level: str
    round: int | None
    by: str
    summary: Summary
    coders_without_work: list[str]
    slices: list[Slice] | None = None  # with ``by`` other than "code"

    # The whole-project figures, read through for callers that show them.
    @property
    def coders(self) -> list[str]:
        return self.summary.coders

    @property
    def units(self) -> int:
        return self.summary.units

    @property
    def pooled_kappa(self) -> float | None:
        return self.summary.pooled_kappa

    @property
    def pooled_kappa_pairs(self) -> list[PooledPair]:
        return self.summary.pooled_kappa_pairs

    @property
    def fleiss_kappa(self) -> float | None:
        return self.summary.fleiss_kappa

    @property
    def gwet_ac1(self) -> float | None:
        return self.summary.gwet_ac1

    @property
    def krippendorff_alpha(self) -> float | None:
        return self.summary.krippendorff_alpha

    @property
    def landis_koch(self) -> str:
        return self.summary.landis_koch

    @property
    def per_code(self) -> list[CodeAgreement]:
        return self.summary.per_code

    @property
    def ci(self) -> ReportIntervals | None:
        return self.summary.ci

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "codebook": self.codebook,
            "codebook_version": self.codebook_version,
            "level": self.level,
            "round": self.round,
            "by": self.by,
        }
        out.update(self.summary.to_json())
        out["coders_without_work"] = self.coders_without_work
        if self.slices is not None:
            out["slices"] = [s.to_json() for s in self.slices]
        return out


def summarise(
    data: AgreementData, *, ci: bool = False, resamples: int = 1000, seed: int = 0, confidence: float = 0.95
) -> Summary:
    """The report body for one set of units."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # means of undefined (NaN) values: reported as null
        return _summarise(data, ci, resamples, seed, confidence)


def _summarise(data: AgreementData, ci: bool, resamples: int, seed: int, confidence: float) -> Summary:
    s = _sparse_stats(data)
    pooled_mean = float(_pooled_mean(s)) if s["pairs"] else float("nan")
    code_kappa = np.nanmean(np.stack([p["kappa"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    code_po = np.nanmean(np.stack([p["p_o"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    code_pe = np.nanmean(np.stack([p["p_e"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    fleiss_mean = np.nanmean(s["kappas"]["fleiss"]) if data.codes else np.nan
    alpha_mean = np.nanmean(s["alpha"]) if data.codes else np.nan
    disagreements, shares = s["disagreements"], s["shares"]
    unanimous = s["multi"]["p_o"]  # with binary data, mean pairwise agreement over all-finished units
    names = data.coders
    per_code = []
    for k, code in enumerate(data.codes):
        prevalence = {name: None if shares is None else _num(shares[c][k]) for c, name in enumerate(names)}
        per_code.append(
            CodeAgreement(
                code_id=require_id(code),
                code=code.name,
                key=code.key,
                path=data.code_paths[k],
                status=code.status,
                units=s["units"],
                prevalence=prevalence,
                p_o=_num(code_po[k]),
                p_e=_num(code_pe[k]),
                cohen_kappa=_num(code_kappa[k]),
                pairs=[
                    PairAgreement(
                        [names[p["index"][0]], names[p["index"][1]]],
                        p["units"],
                        _num(p["p_o"][k]),
                        _num(p["p_e"][k]),
                        _num(p["kappa"][k]),
                    )
                    for p in s["pairs"]
                ],
                agreement=_num(unanimous[k]),
                fleiss_kappa=_num(s["kappas"]["fleiss"][k]),
                gwet_ac1=_num(s["kappas"]["ac1"][k]),
                brennan_prediger=_num(s["kappas"]["bp"][k]),
                krippendorff_alpha=_num(s["alpha"][k]),
                disagreements=int(disagreements[k]),
                landis_koch=landis_koch(code_kappa[k]),
                cicchetti=cicchetti(code_kappa[k]),
            )
        )
    body = Summary(
        coders=names,
        units=s["units"],
        units_any=s["units_any"],
        pooled_kappa=_num(pooled_mean),
        pooled_kappa_pairs=[
            PooledPair(
                [names[p["index"][0]], names[p["index"][1]]],
                p["units"],
                _num(np.mean(p["p_o"])) if data.codes else None,
                _num(np.mean(p["p_e"])) if data.codes else None,
                _num(p["pooled"]),
            )
            for p in s["pairs"]
        ],
        fleiss_kappa=_num(s["fleiss_pooled"]),
        fleiss_kappa_mean=_num(fleiss_mean),
        gwet_ac1=_num(s["ac1_pooled"]),
        krippendorff_alpha=_num(s["alpha_pooled"]),
        krippendorff_alpha_mean=_num(alpha_mean),
        landis_koch=landis_koch(pooled_mean),
        cicchetti=cicchetti(pooled_mean),
        per_code=per_code,
    )
    if ci and len(data.segment_ids):
        boot = _bootstrap(data, resamples, seed, confidence)
        body.ci = ReportIntervals(
            confidence,
            resamples,
            seed,
            "percentile bootstrap over segments",
            boot["pooled_kappa"],
            boot["fleiss_kappa"],
            boot["krippendorff_alpha"],
            boot["dropped"],
        )
        for row, intervals in zip(per_code, boot["per_code"]):
            row.ci = CodeIntervals(**intervals)
    return body


def _slice_names(session: Session, by: str, keys: np.ndarray) -> dict[int | None, str]:
    """Slice names by case or transcript id (keyed as SQLModel types an id column, though a stored id is never None)."""
    if by == "case":
        names = dict(session.exec(select(col(Case.id), Case.name)).all())
        names[-1] = "(no case)"
        return names
    return dict(session.exec(select(col(Transcript.id), Transcript.title)).all())


def rounds_in_use(session: Session) -> list[int]:
    coded = set(session.exec(select(Coding.round).distinct()).all())
    finished = set(session.exec(select(SegmentStatus.round).distinct()).all())
    return sorted(coded | finished)


def version_windows(session: Session, codebook: Codebook) -> list[tuple[int, datetime | None, datetime | None]]:
    """Each version of ``codebook`` with the ``[from, until)`` window it was in force.

    A version is in force from its ``created_at`` until the next version's. The first
    window is open at the start, so nothing older is lost; without recorded versions the
    codebook's current version covers everything.
    """
    versions = session.exec(
        select(CodebookVersion.number, CodebookVersion.created_at)
        .where(CodebookVersion.codebook_id == codebook.id)
        .order_by(col(CodebookVersion.number))
    ).all()
    if not versions:
        return [(codebook.version, None, None)]
    return [
        (number, None if i == 0 else created, versions[i + 1][1] if i + 1 < len(versions) else None)
        for i, (number, created) in enumerate(versions)
    ]


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def agreement_report(
    session: Session,
    viewer: str | None,
    *,
    codebook: str | None = None,
    coders: list[str] | None = None,
    round: int | None = None,
    level: str | None = None,
    by: str = "code",
    ci: bool = False,
    resamples: int = 1000,
    seed: int = 0,
    confidence: float = 0.95,
) -> AgreementReport:
    """The agreement report (checks blinding first).

    ``by`` adds ``slices``: one summary per case/transcript/round/version.

    A codebook version's slice holds the codings created, the done marks made and the
    consensus decisions taken while that version was in force (``version_windows``).
    """
    require_reader(session, viewer)
    if by not in SLICES:
        raise QualcodeError(f"--by must be one of {', '.join(SLICES)}")
    cb = get_codebook(session, codebook)
    data = load(session, cb, coders, round, level)
    coders = data.coders  # the slices compare the same coders as the whole report

    def summary(part: AgreementData) -> Summary:
        return summarise(part, ci=ci, resamples=resamples, seed=seed, confidence=confidence)

    report = AgreementReport(cb.name, cb.version, data.level, round, by, summary(data), data.coders_without_work)
    if by in ("case", "transcript"):
        keys = data.case_ids if by == "case" else data.transcript_ids
        names = _slice_names(session, by, keys)
        report.slices = [
            Slice(by, names.get(key, str(key)), summary(data.subset(keys == key)))
            for key in sorted(set(keys.tolist()), key=lambda k: names.get(k, ""))
        ]
    elif by == "round":
        report.slices = [
            Slice(by, number, summary(load(session, cb, coders, number, level))) for number in rounds_in_use(session)
        ]
    elif by == "version":
        report.slices = [
            Slice(
                by,
                number,
                summary(load(session, cb, coders, round, level, between=(start, until))),
                _iso(start),
                _iso(until),
            )
            for number, start, until in version_windows(session, cb)
        ]
    return report


def agreement_json(session: Session, viewer: str | None, **options: Any) -> dict[str, Any]:
    """The report as the JSON document ``qualcode agreement --format json`` prints (docs/agreement.md)."""
    return agreement_report(session, viewer, **options).to_json()


UNDEFINED = "n/a"
UNDEFINED_NOTE = (
    "n/a: undefined (no units every compared coder finished, or chance agreement of 1: "
    "every coder made the same choice on every unit)."
)


def _fmt(x: float | None) -> str:
    return UNDEFINED if x is None else apa_statistic(x)


def _ci_text(value: float | None, interval: list[float | None] | None) -> str | float | None:
    """The value with its interval as text (APA: ``.78 [.70, .85]``); the bare value without one."""
    if not interval or interval[0] is None or interval[1] is None:
        return value
    return f"{_fmt(value)} [{apa_statistic(interval[0])}, {apa_statistic(interval[1])}]"


# Column heads in words, as a manuscript table has them; the statistics that cannot exceed 1 are
# printed APA style (no leading zero) in the human formats and kept at full precision in csv/json.
STATISTIC_COLUMNS = (
    "Observed agreement",
    "Chance agreement",
    "Kappa",
    "Pooled kappa",
    "Fleiss' kappa",
    "Gwet's AC1",
    "Krippendorff's alpha",
)


def _apa(value: Any) -> str:
    """A statistic APA style; a cell that is already text (a value with its interval) as it is."""
    return apa_statistic(value) if isinstance(value, (int, float)) else str(value)


def _statistic_formats() -> dict[str, Any]:
    return {name: _apa for name in STATISTIC_COLUMNS} | {"*": ".1f"}


def report_table(report: AgreementReport, number: int | None = None) -> Table:
    """The report as a manuscript table: one row per code, or per slice with --by case|transcript|round|version.

    Cells hold numbers (full precision in csv, json and xlsx); an undefined statistic is missing
    and shows as "n/a". ``number`` gives the APA "Table N" line.
    """
    by = report.by
    note = (
        f"Units are segments every compared coder finished (n = {report.units}). "
        f"Pooled kappa (De Vries et al., 2008) = {_fmt(report.pooled_kappa)}; "
        f"Fleiss' kappa (pooled over codes) = {_fmt(report.fleiss_kappa)}; "
        f"Krippendorff's alpha (nominal, all segment-code decisions) = {_fmt(report.krippendorff_alpha)}. "
        f"Coders: {', '.join(report.coders)}."
    )
    if report.coders_without_work:
        note += f" Left out (no segment marked done): {', '.join(report.coders_without_work)}."
    if None in (report.pooled_kappa, report.fleiss_kappa, report.krippendorff_alpha):
        note += " " + UNDEFINED_NOTE
    if report.ci is not None:
        ci = report.ci
        low, high = ci.pooled_kappa
        note += f" {int(ci.level * 100)}% bootstrap CI for pooled kappa [{_fmt(low)}, {_fmt(high)}]."
        if ci.dropped:
            note += (
                f" {ci.dropped} of {ci.resamples} resamples left a statistic undefined and were dropped"
                " from its interval."
            )
    if by != "code":
        label = by.capitalize()
        rows = [
            [
                s.name,
                s.summary.units,
                _ci_text(s.summary.pooled_kappa, s.summary.ci.pooled_kappa if s.summary.ci else None),
                s.summary.fleiss_kappa,
                s.summary.gwet_ac1,
                s.summary.krippendorff_alpha,
                s.summary.landis_koch,
            ]
            for s in report.slices or []
        ]
        return Table(
            columns=[
                label,
                "Units",
                "Pooled kappa",
                "Fleiss' kappa",
                "Gwet's AC1",
                "Krippendorff's alpha",
                "Landis & Koch",
            ],
            rows=rows,
            title=f"Intercoder Agreement by {label}",
            number=number,
            note=note,
            label=f"tab:agreement-{by}",
            formats=_statistic_formats(),
            missing=UNDEFINED,
        )
    coders = report.coders
    columns = (
        ["Code", "Units"]
        + [f"% {c}" for c in coders]
        + [*STATISTIC_COLUMNS[:3], *STATISTIC_COLUMNS[4:], "Disagreements", "Landis & Koch"]
    )
    rows = []
    for r in report.per_code:
        prevalence = [None if (share := r.prevalence[c]) is None else round(100 * share, 4) for c in coders]
        rows.append(
            [
                r.path,
                r.units,
                *prevalence,
                r.p_o,
                r.p_e,
                _ci_text(r.cohen_kappa, r.ci.cohen_kappa if r.ci else None),
                r.fleiss_kappa,
                r.gwet_ac1,
                r.krippendorff_alpha,
                r.disagreements,
                r.landis_koch,
            ]
        )
    return Table(
        columns=columns,
        rows=rows,
        title="Intercoder Agreement by Code",
        number=number,
        note=note,
        label="tab:agreement",
        formats=_statistic_formats(),
        missing=UNDEFINED,
    )
