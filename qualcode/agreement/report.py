"""The project agreement report: per code, overall, and by case, transcript, round or codebook version.

``agreement_report`` returns a JSON-ready dict with stable keys (see docs/agreement.md);
``report_table`` turns it into the shared ``Table``. A TUI dashboard can use the dict
directly: ``per_code`` rows carry ``code_id`` for drilling into the disagreement queue.
"""

from __future__ import annotations

import math
import warnings
from datetime import datetime, timezone
from itertools import combinations
from typing import Any

import numpy as np
from sqlalchemy import select
from sqlmodel import Session

from ..codebook.lookup import get_codebook
from ..coding.blinding import require_reader
from ..errors import QualcodeError
from ..table import Table
from ..store.models import Case, Codebook, CodebookVersion, Coding, SegmentStatus, Transcript
from . import binary
from .data import AgreementData, load
from .statistics import cicchetti, kappa_from_parts, landis_koch, percentile_interval

SLICES = ("code", "case", "transcript", "round", "version")
CI_CHUNK = 100  # bootstrap replicates computed together (bounds memory)


def _num(x: Any) -> float | None:
    x = float(x)
    return None if math.isnan(x) else round(x, 6)


def _stats(data: AgreementData, weights: np.ndarray | None = None) -> dict[str, Any]:
    """Every statistic of the report for one unit weighting (None = the data as it is)."""
    done, x = data.done, data.present
    out: dict[str, Any] = {"pairs": []}
    for i, j in combinations(range(len(data.coders)), 2):
        mask = done[i] & done[j]
        w = None if weights is None else weights[..., mask]
        p_o, p_e = binary.pair_parts(x[i][mask], x[j][mask], w)
        out["pairs"].append({
            "index": (i, j), "units": int(mask.sum()), "p_o": p_o, "p_e": p_e, "kappa": kappa_from_parts(p_o, p_e),
            "pooled": kappa_from_parts(p_o.mean(axis=-1), p_e.mean(axis=-1)) if p_o.shape[-1] else np.nan,
        })
    all_done = done.all(axis=0)
    out["applied"] = applied = x.sum(axis=0, dtype=np.min_scalar_type(len(data.coders)))  # (units, codes)
    out["finished"] = finished = done.sum(axis=0)
    w = None if weights is None else weights[..., all_done]
    parts = binary.multi_parts(applied[all_done], len(data.coders), w)
    out["multi"] = parts
    out["kappas"] = binary.kappas(parts)
    out["fleiss_pooled"] = kappa_from_parts(parts["p_o"].mean(axis=-1), parts["fleiss"].mean(axis=-1)) if applied.shape[1] else np.nan
    out["ac1_pooled"] = kappa_from_parts(parts["p_o"].mean(axis=-1), parts["ac1"].mean(axis=-1)) if applied.shape[1] else np.nan
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
    keep: dict[str, list[np.ndarray]] = {k: [] for k in ("pooled", "fleiss", "alpha", "code_kappa", "code_fleiss", "code_alpha", "code_ac1")}
    for start in range(0, resamples, CI_CHUNK):
        b = min(CI_CHUNK, resamples - start)
        draws = rng.integers(0, n, size=(b, n))
        weights = np.zeros((b, n))
        np.add.at(weights, (np.repeat(np.arange(b), n), draws.ravel()), 1.0)
        s = _stats(data, weights)
        keep["pooled"].append(_pooled_mean(s))
        keep["fleiss"].append(np.asarray(s["fleiss_pooled"]).reshape(b))
        keep["alpha"].append(np.asarray(s["alpha_pooled"]).reshape(b))
        keep["code_kappa"].append(np.nanmean(np.stack([p["kappa"] for p in s["pairs"]]), axis=0))
        keep["code_fleiss"].append(s["kappas"]["fleiss"])
        keep["code_ac1"].append(s["kappas"]["ac1"])
        keep["code_alpha"].append(s["alpha"])
    joined = {k: np.concatenate(v, axis=0) for k, v in keep.items()}

    def interval(values: np.ndarray) -> list[float | None]:
        return [_num(v) for v in percentile_interval(values, confidence)]

    per_code = [
        {name: interval(joined[f"code_{key}"][:, k]) for name, key in
         (("cohen_kappa", "kappa"), ("fleiss_kappa", "fleiss"), ("gwet_ac1", "ac1"), ("krippendorff_alpha", "alpha"))}
        for k in range(len(data.codes))
    ]
    return {"pooled_kappa": interval(joined["pooled"]), "fleiss_kappa": interval(joined["fleiss"]),
            "krippendorff_alpha": interval(joined["alpha"]), "per_code": per_code}


def summarise(data: AgreementData, *, ci: bool = False, resamples: int = 1000, seed: int = 0, confidence: float = 0.95) -> dict[str, Any]:
    """The report body for one set of units (JSON-ready)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # means of undefined (NaN) values: reported as null
        return _summarise(data, ci, resamples, seed, confidence)


def _summarise(data: AgreementData, ci: bool, resamples: int, seed: int, confidence: float) -> dict[str, Any]:
    s = _stats(data)
    pooled_mean = float(_pooled_mean(s)) if s["pairs"] else float("nan")
    code_kappa = np.nanmean(np.stack([p["kappa"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    code_po = np.nanmean(np.stack([p["p_o"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    code_pe = np.nanmean(np.stack([p["p_e"] for p in s["pairs"]]), axis=0) if data.codes else np.array([])
    fleiss_mean = np.nanmean(s["kappas"]["fleiss"]) if data.codes else np.nan
    alpha_mean = np.nanmean(s["alpha"]) if data.codes else np.nan
    all_done = data.done.all(axis=0)
    finished, applied = s["finished"], s["applied"]
    disagreements = np.count_nonzero((applied > 0) & (applied < finished[:, None]) & (finished[:, None] >= 2), axis=0)
    unanimous = s["multi"]["p_o"]  # with binary data, mean pairwise agreement over all-finished units
    names = data.coders
    shares = [np.count_nonzero(data.present[c][all_done], axis=0) / all_done.sum() for c in range(len(names))] if all_done.any() else None
    per_code = []
    for k, code in enumerate(data.codes):
        prevalence = {name: None if shares is None else _num(shares[c][k]) for c, name in enumerate(names)}
        row = {
            "code_id": code.id, "code": code.name, "key": code.key, "path": data.code_paths[k], "status": code.status,
            "units": s["units"], "prevalence": prevalence,
            "p_o": _num(code_po[k]), "p_e": _num(code_pe[k]), "cohen_kappa": _num(code_kappa[k]),
            "pairs": [{"coders": [names[p["index"][0]], names[p["index"][1]]], "units": p["units"], "p_o": _num(p["p_o"][k]),
                       "p_e": _num(p["p_e"][k]), "cohen_kappa": _num(p["kappa"][k])} for p in s["pairs"]],
            "agreement": _num(unanimous[k]),
            "fleiss_kappa": _num(s["kappas"]["fleiss"][k]), "gwet_ac1": _num(s["kappas"]["ac1"][k]),
            "brennan_prediger": _num(s["kappas"]["bp"][k]), "krippendorff_alpha": _num(s["alpha"][k]),
            "disagreements": int(disagreements[k]),
            "landis_koch": landis_koch(code_kappa[k]), "cicchetti": cicchetti(code_kappa[k]),
        }
        per_code.append(row)
    body: dict[str, Any] = {
        "coders": names,
        "units": s["units"],
        "units_any": int((finished > 0).sum()),
        "pooled_kappa": _num(pooled_mean),
        "pooled_kappa_pairs": [{"coders": [names[p["index"][0]], names[p["index"][1]]], "units": p["units"],
                                "p_o": _num(np.mean(p["p_o"])) if data.codes else None,
                                "p_e": _num(np.mean(p["p_e"])) if data.codes else None,
                                "pooled_kappa": _num(p["pooled"])} for p in s["pairs"]],
        "fleiss_kappa": _num(s["fleiss_pooled"]),
        "fleiss_kappa_mean": _num(fleiss_mean),
        "gwet_ac1": _num(s["ac1_pooled"]),
        "krippendorff_alpha": _num(s["alpha_pooled"]),
        "krippendorff_alpha_mean": _num(alpha_mean),
        "landis_koch": landis_koch(pooled_mean),
        "cicchetti": cicchetti(pooled_mean),
        "per_code": per_code,
    }
    if ci and len(data.segment_ids):
        boot = _bootstrap(data, resamples, seed, confidence)
        body["ci"] = {"level": confidence, "resamples": resamples, "seed": seed, "method": "percentile bootstrap over segments",
                      "pooled_kappa": boot["pooled_kappa"], "fleiss_kappa": boot["fleiss_kappa"], "krippendorff_alpha": boot["krippendorff_alpha"]}
        for row, intervals in zip(per_code, boot["per_code"]):
            row["ci"] = intervals
    return body


def _slice_names(session: Session, by: str, keys: np.ndarray) -> dict[int, str]:
    if by == "case":
        rows = session.exec(select(Case.id, Case.name)).all()
        names = {int(i): n for i, n in rows}
        names[-1] = "(no case)"
        return names
    rows = session.exec(select(Transcript.id, Transcript.title)).all()
    return {int(i): t for i, t in rows}


def rounds_in_use(session: Session) -> list[int]:
    coded = {r for (r,) in session.exec(select(Coding.round).distinct()).all()}
    finished = {r for (r,) in session.exec(select(SegmentStatus.round).distinct()).all()}
    return sorted(coded | finished)


def version_windows(session: Session, codebook: Codebook) -> list[tuple[int, datetime | None, datetime | None]]:
    """Each version of ``codebook`` with the ``[from, until)`` window it was in force.

    A version is in force from its ``created_at`` until the next version's. The first
    window is open at the start, so nothing older is lost; without recorded versions the
    codebook's current version covers everything.
    """
    versions = session.exec(select(CodebookVersion.number, CodebookVersion.created_at)
                            .where(CodebookVersion.codebook_id == codebook.id).order_by(CodebookVersion.number)).all()
    if not versions:
        return [(codebook.version, None, None)]
    return [(number, None if i == 0 else created, versions[i + 1][1] if i + 1 < len(versions) else None)
            for i, (number, created) in enumerate(versions)]


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


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
) -> dict[str, Any]:
    """The agreement report (checks blinding first). ``by`` adds ``slices``: one summary per case/transcript/round/version.

    A codebook version's slice holds the codings created, the done marks made and the
    consensus decisions taken while that version was in force (``version_windows``).
    """
    require_reader(session, viewer)
    if by not in SLICES:
        raise QualcodeError(f"--by must be one of {', '.join(SLICES)}")
    cb = get_codebook(session, codebook)
    data = load(session, cb, coders, round, level)
    coders = data.coders  # the slices compare the same coders as the whole report
    report = {"codebook": cb.name, "codebook_version": cb.version, "level": data.level, "round": round, "by": by}
    report.update(summarise(data, ci=ci, resamples=resamples, seed=seed, confidence=confidence))
    report["coders_without_work"] = data.coders_without_work
    if by in ("case", "transcript"):
        keys = data.case_ids if by == "case" else data.transcript_ids
        names = _slice_names(session, by, keys)
        report["slices"] = []
        for key in sorted(set(keys.tolist()), key=lambda k: names.get(k, "")):
            part = summarise(data.subset(keys == key), ci=ci, resamples=resamples, seed=seed, confidence=confidence)
            report["slices"].append({by: names.get(key, str(key)), **_slice_summary(part)})
    elif by == "round":
        report["slices"] = []
        for number in rounds_in_use(session):
            part = summarise(load(session, cb, coders, number, level), ci=ci, resamples=resamples, seed=seed, confidence=confidence)
            report["slices"].append({"round": number, **_slice_summary(part)})
    elif by == "version":
        report["slices"] = []
        for number, start, until in version_windows(session, cb):
            part = summarise(load(session, cb, coders, round, level, between=(start, until)), ci=ci, resamples=resamples,
                             seed=seed, confidence=confidence)
            report["slices"].append({"version": number, "from": _iso(start), "until": _iso(until), **_slice_summary(part)})
    return report


def _slice_summary(part: dict[str, Any]) -> dict[str, Any]:
    keys = ("units", "pooled_kappa", "fleiss_kappa", "gwet_ac1", "krippendorff_alpha", "landis_koch", "cicchetti", "ci")
    return {k: part[k] for k in keys if k in part}


def _fmt(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}"


def _ci_text(value: float | None, interval: list[float | None] | None) -> str:
    text = _fmt(value)
    if interval and interval[0] is not None:
        text += f" [{interval[0]:.2f}, {interval[1]:.2f}]"
    return text


def report_table(report: dict[str, Any]) -> Table:
    """The report as a manuscript table: one row per code, or per slice with --by case|transcript|round|version."""
    by = report["by"]
    note = (f"Units are segments every compared coder finished (n = {report['units']}). "
            f"Pooled kappa (De Vries et al., 2008) = {_fmt(report['pooled_kappa'])}; "
            f"Fleiss' kappa (pooled over codes) = {_fmt(report['fleiss_kappa'])}; "
            f"Krippendorff's alpha (nominal, all segment-code decisions) = {_fmt(report['krippendorff_alpha'])}. "
            f"Coders: {', '.join(report['coders'])}.")
    if report.get("coders_without_work"):
        note += f" Left out (no segment marked done): {', '.join(report['coders_without_work'])}."
    if "ci" in report:
        ci = report["ci"]
        note += f" {int(ci['level'] * 100)}% bootstrap CI for pooled kappa [{_fmt(ci['pooled_kappa'][0])}, {_fmt(ci['pooled_kappa'][1])}]."
    if by != "code":
        label = by.capitalize()
        rows = [[s[by], s["units"], _ci_text(s["pooled_kappa"], s.get("ci", {}).get("pooled_kappa")), _fmt(s["fleiss_kappa"]),
                 _fmt(s["gwet_ac1"]), _fmt(s["krippendorff_alpha"]), s["landis_koch"]] for s in report["slices"]]
        return Table(columns=[label, "Units", "Pooled kappa", "Fleiss", "AC1", "Alpha", "Landis & Koch"], rows=rows,
                     title=f"Intercoder Agreement by {label}", note=note, label=f"tab:agreement-{by}")
    coders = report["coders"]
    columns = ["Code", "Units"] + [f"% {c}" for c in coders] + ["p_o", "p_e", "Kappa", "Fleiss", "AC1", "Alpha", "Disagreements", "Landis & Koch"]
    rows = []
    for r in report["per_code"]:
        prevalence = [("" if r["prevalence"][c] is None else f"{100 * r['prevalence'][c]:.1f}") for c in coders]
        rows.append([r["path"], r["units"], *prevalence, _fmt(r["p_o"]), _fmt(r["p_e"]),
                     _ci_text(r["cohen_kappa"], r.get("ci", {}).get("cohen_kappa")), _fmt(r["fleiss_kappa"]),
                     _fmt(r["gwet_ac1"]), _fmt(r["krippendorff_alpha"]), r["disagreements"], r["landis_koch"]])
    return Table(columns=columns, rows=rows, title="Intercoder Agreement by Code", note=note, label="tab:agreement")
