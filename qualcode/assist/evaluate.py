"""How well the suggestion model agrees with the consensus: leave-one-transcript-out.

For each transcript of the training examples, a model is trained on the other transcripts (features,
calibration and thresholds all learned without it) and predicts that transcript's segments. The
pooled predictions are then compared with the consensus (or the coder the model learns from):

* per code: Cohen's kappa of "suggested" (probability at or above the code's threshold) against
  "present", with a percentile bootstrap 95% interval (segments resampled, seeded); precision at 1
  (of the segments whose top suggestion is this code, the share where it is present); hit at 3 (of
  the segments where it is present, the share where it is among the top three suggestions); and
  the number of training examples (segments where it is present);
* overall: De Vries et al.'s pooled kappa over the modelled codes with its bootstrap interval,
  precision at 1 over the segments with a suggestion, hit at 3 over the segments with at least one
  code, and coverage (the share of segments that get any suggestion: the model abstains on the rest);
* beside them, the team's own agreement: the median over coder pairs of the pooled kappa and of each
  code's Cohen's kappa (``qualcode.agreement``), the benchmark a suggestion should reach.

Statistics come from ``qualcode.agreement.statistics``.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..agreement.statistics import binary_parts, bootstrap_ci, kappa_from_parts, pooled_kappa
from ..codebook.lookup import get_codebook
from ..coding.blinding import require_reader
from ..coding.layers import CONSENSUS
from ..errors import QualcodeError
from ..store.access import Access
from ..store.ids import require_id
from ..table import Table
from .features import embed, text_features
from .suggest import MIN_EXAMPLES, TOP_K, describe, fit_model, training_set

GOAL_EXAMPLES = 20  # the goal applies to codes with at least this many consensus examples


def binary_kappa(predicted: np.ndarray, truth: np.ndarray) -> float:
    """Cohen's kappa of two 0/1 vectors (NaN where chance agreement is 1)."""
    p_o, p_e = binary_parts(np.asarray(predicted).reshape(-1, 1), np.asarray(truth).reshape(-1, 1))
    return float(kappa_from_parts(float(p_o[0]), float(p_e[0])))


def _nan_none(x: float | None) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)


def _share(hits: np.ndarray, of: np.ndarray) -> float | None:
    n = int(of.sum())
    return float(hits[of].mean()) if n else None


@dataclass
class CodeEvaluation:
    code_id: int
    path: str
    examples: int  # training examples: segments where the code is present
    modelled: bool
    suggested: int  # segments where it was suggested (above threshold)
    kappa: float | None
    ci: tuple[float | None, float | None]
    precision_at_1: float | None
    hit_at_3: float | None
    human_kappa: float | None  # median over coder pairs of this code's Cohen's kappa

    def to_json(self) -> dict[str, Any]:
        return {
            "code_id": self.code_id,
            "code": self.path,
            "examples": self.examples,
            "modelled": self.modelled,
            "suggested": self.suggested,
            "kappa": _nan_none(self.kappa),
            "kappa_ci": [_nan_none(self.ci[0]), _nan_none(self.ci[1])],
            "precision_at_1": self.precision_at_1,
            "hit_at_3": self.hit_at_3,
            "human_median_pairwise_kappa": _nan_none(self.human_kappa),
        }


@dataclass
class Evaluation:
    codebook: str
    trained_from: str
    segments: int
    transcripts: int
    codes: list[CodeEvaluation]
    pooled_kappa: float | None
    pooled_ci: tuple[float | None, float | None]
    precision_at_1: float | None
    hit_at_3: float | None
    coverage: float | None
    human_pooled_kappa: float | None  # median over coder pairs of the pooled kappa
    human_pairs: int
    resamples: int
    seed: int
    seconds: float
    info: dict[str, Any] = field(default_factory=dict)

    def goal(self) -> list[tuple[str, float | None, float | None, bool]]:
        """Codes with at least ``GOAL_EXAMPLES`` examples: (code, model kappa, human median kappa, met)."""
        out = []
        for c in self.codes:
            if c.examples >= GOAL_EXAMPLES:
                human = c.human_kappa if c.human_kappa is not None else self.human_pooled_kappa
                met = c.kappa is not None and human is not None and not math.isnan(c.kappa) and c.kappa >= human
                out.append((c.path, _nan_none(c.kappa), _nan_none(human), met))
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "codebook": self.codebook,
            "trained_from": self.trained_from,
            "method": "leave-one-transcript-out",
            "segments": self.segments,
            "transcripts": self.transcripts,
            "model": self.info.get("model"),
            "features": self.info.get("features_text"),
            "lemmatizer": self.info.get("lemmatizer"),
            "scikit_learn": self.info.get("scikit_learn"),
            "qualcode": self.info.get("qualcode"),
            "pooled_kappa": _nan_none(self.pooled_kappa),
            "pooled_kappa_ci": [_nan_none(self.pooled_ci[0]), _nan_none(self.pooled_ci[1])],
            "precision_at_1": self.precision_at_1,
            "hit_at_3": self.hit_at_3,
            "coverage": self.coverage,
            "human_median_pairwise_pooled_kappa": _nan_none(self.human_pooled_kappa),
            "human_pairs": self.human_pairs,
            "bootstrap": {"resamples": self.resamples, "seed": self.seed, "unit": "segment"},
            "codes": [c.to_json() for c in self.codes],
            "goal": [{"code": code, "kappa": k, "human_kappa": h, "met": met} for code, k, h, met in self.goal()],
            "methods": methods_paragraph(self),
            "seconds": self.seconds,
        }


@dataclass
class Predictions:
    """Held-out predictions of every segment: calibrated probabilities, thresholds, known-feature counts."""

    probs: np.ndarray  # segments x codes (0 where a fold had no model of the code)
    thresholds: np.ndarray  # segments x codes (inf where no model)
    known: np.ndarray  # segments

    @property
    def suggested(self) -> np.ndarray:
        return (self.probs >= self.thresholds) & (self.known > 0)[:, None]

    def top(self, k: int) -> np.ndarray:
        """Per segment, the codes suggested among the ``k`` most probable (segments x codes, bool)."""
        masked = np.where(self.suggested, self.probs, -1.0)
        order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
        out = np.zeros_like(self.suggested)
        rows = np.arange(len(masked))[:, None]
        out[rows, order] = True
        return out & self.suggested


def leave_one_transcript_out(
    features: list[list[str]],
    labels: np.ndarray,
    groups: np.ndarray,
    codes: list,
    paths: dict[int, str],
    embedded: np.ndarray | None = None,
) -> Predictions:
    """Predict every transcript's segments with a model trained on the other transcripts."""
    n, k = labels.shape
    probs = np.zeros((n, k))
    thresholds = np.full((n, k), np.inf)
    known = np.zeros(n, dtype=int)
    column = {require_id(c): j for j, c in enumerate(codes)}
    for transcript in np.unique(groups):
        held = groups == transcript
        train = np.flatnonzero(~held)
        model = fit_model(
            [features[i] for i in train],
            labels[train],
            groups[train],
            codes,
            paths,
            embedded=None if embedded is None else embedded[train],
        )
        test = np.flatnonzero(held)
        p, seen = model.probabilities_of([features[i] for i in test], None if embedded is None else embedded[test])
        known[test] = seen
        for m, code in enumerate(model.codes):
            j = column[code.code_id]
            probs[test, j] = p[:, m]
            thresholds[test, j] = code.threshold
    return Predictions(probs, thresholds, known)


def human_agreement(session, viewer: str | None, codebook: str) -> tuple[float | None, int, dict[int, float]]:
    """The team's median pairwise pooled kappa, how many pairs, and per code the median pairwise Cohen's kappa."""
    from ..agreement.report import agreement_report

    try:
        report = agreement_report(session, viewer, codebook=codebook, level="code")
    except QualcodeError:  # fewer than two coders with work: no human benchmark
        return None, 0, {}
    pairs = [p.pooled_kappa for p in report.pooled_kappa_pairs if p.pooled_kappa is not None]
    per_code: dict[int, float] = {}
    for code in report.per_code:
        values = [p.cohen_kappa for p in code.pairs if p.cohen_kappa is not None and not math.isnan(p.cohen_kappa)]
        if values:
            per_code[code.code_id] = float(np.median(values))
    return (float(np.median(pairs)) if pairs else None), len(pairs), per_code


def evaluate(
    project: Access,
    viewer: str | None,
    *,
    codebook: str | None = None,
    source: str = CONSENSUS,
    resamples: int = 1000,
    seed: int = 0,
    embeddings: bool = False,
) -> Evaluation:
    """Leave-one-transcript-out evaluation of the codebook's suggestion model (a lead's or auditor's read)."""
    started = time.perf_counter()
    with project.read() as s:
        require_reader(s, viewer)
        cb = get_codebook(s, codebook)
        data = training_set(s, cb, source)
        human_pooled, human_pairs, human_per_code = human_agreement(s, viewer, cb.name)
    transcripts = np.unique(data.transcript_ids)
    if len(transcripts) < 2:
        raise QualcodeError(
            f"leave-one-transcript-out needs examples from two transcripts or more; {data.source} has "
            f"{len(transcripts)} in {cb.name!r}"
        )
    features = text_features(data.texts)
    embedded = embed(data.texts) if embeddings else None
    predictions = leave_one_transcript_out(features, data.labels, data.transcript_ids, data.codes, data.paths, embedded)
    human = human_per_code
    code_ids = [require_id(c) for c in data.codes]
    scores = score(predictions, data.labels, code_ids, data.paths, resamples, seed, human)
    return Evaluation(
        cb.name,
        data.source,
        len(data.segment_ids),
        len(transcripts),
        scores.codes,
        scores.pooled_kappa,
        scores.pooled_ci,
        scores.precision_at_1,
        scores.hit_at_3,
        scores.coverage,
        human_pooled,
        human_pairs,
        resamples,
        seed,
        time.perf_counter() - started,
        describe(data, embeddings=embeddings),
    )


@dataclass
class Scores:
    codes: list[CodeEvaluation]
    pooled_kappa: float
    pooled_ci: tuple[float | None, float | None]
    precision_at_1: float | None
    hit_at_3: float | None
    coverage: float | None


def score(
    predictions: Predictions,
    truth: np.ndarray,
    code_ids: list[int],
    paths: dict[int, str],
    resamples: int = 1000,
    seed: int = 0,
    human_per_code: dict[int, float] | None = None,
    min_examples: int = MIN_EXAMPLES,
) -> Scores:
    """The figures of held-out ``predictions`` against ``truth`` (segments x codes); codes with fewer than
    ``min_examples`` positives are reported as not modelled."""
    human_per_code = human_per_code or {}
    suggested = predictions.suggested
    top1, top3 = predictions.top(1), predictions.top(TOP_K)
    examples = truth.sum(axis=0).astype(int)
    modelled = examples >= min_examples
    rows: list[CodeEvaluation] = []
    for j, code_id in enumerate(code_ids):
        if modelled[j]:
            kappa = binary_kappa(suggested[:, j], truth[:, j])
            interval = bootstrap_ci(binary_kappa, suggested[:, j], truth[:, j], resamples=resamples, seed=seed)
            ci: tuple[float | None, float | None] = (interval.low, interval.high)
        else:
            kappa, ci = float("nan"), (None, None)
        rows.append(
            CodeEvaluation(
                code_id,
                paths.get(code_id, str(code_id)),
                int(examples[j]),
                bool(modelled[j]),
                int(suggested[:, j].sum()),
                kappa,
                ci,
                _share(truth[:, j], top1[:, j]),
                _share(top3[:, j], truth[:, j]),
                human_per_code.get(code_id),
            )
        )
    cols = np.flatnonzero(modelled)
    if cols.size:
        pooled = float(pooled_kappa(suggested[:, cols], truth[:, cols]))
        interval = bootstrap_ci(pooled_kappa, suggested[:, cols], truth[:, cols], resamples=resamples, seed=seed)
        pooled_ci: tuple[float | None, float | None] = (interval.low, interval.high)
    else:
        pooled, pooled_ci = float("nan"), (None, None)
    covered: np.ndarray = np.asarray(suggested.any(axis=1))
    has_code: np.ndarray = np.asarray(truth.any(axis=1))
    return Scores(
        rows,
        pooled,
        pooled_ci,
        _share((top1 & truth).any(axis=1), covered),
        _share((top3 & truth).any(axis=1), has_code),
        float(covered.mean()) if len(covered) else None,
    )


# -- for the manuscript ---------------------------------------------------------------------------
def _f(x: float | None, digits: int = 2) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "n/a"
    return f"{x:.{digits}f}".replace("0.", ".", 1) if abs(x) < 1 else f"{x:.{digits}f}"


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x * 100:.0f}%"


def methods_paragraph(ev: Evaluation) -> str:
    """A paragraph for a methods section: what was learned from what, and how well it agreed."""
    info = ev.info
    layer = "the consensus coding" if ev.trained_from == CONSENSUS else f"the finished coding of {ev.trained_from}"
    text = (
        f'Code suggestions were produced by a model trained on {layer} of the codebook "{ev.codebook}" '
        f"(version {info.get('codebook_version')}; {ev.segments} segments from {ev.transcripts} transcripts). "
        f"Features were {info.get('features_text')}, with lemmas from {info.get('lemmatizer')} (spaCy). "
        f"The model was a {info.get('model')} (scikit-learn {info.get('scikit_learn')}, qualcode "
        f"{info.get('qualcode')}), with a per-code probability threshold chosen by Cohen's kappa on "
        f"out-of-fold predictions; codes with fewer than {info.get('min_examples')} examples were not modelled, "
        "and the model made no suggestion where a segment's probabilities fell below every threshold. "
        "Agreement with the consensus was estimated by leave-one-transcript-out cross-validation: each "
        "transcript was predicted by a model trained on the others. "
        f"Pooled kappa (De Vries et al., 2008) between the suggestions and {layer} was {_f(ev.pooled_kappa)} "
        f"(95% percentile bootstrap CI {_f(ev.pooled_ci[0])} to {_f(ev.pooled_ci[1])}, {ev.resamples} "
        f"resamples of segments); the top suggestion was right for {_pct(ev.precision_at_1)} of the segments "
        f"that received one, a correct code was among the top three for {_pct(ev.hit_at_3)} of the coded "
        f"segments, and {_pct(ev.coverage)} of segments received a suggestion."
    )
    if ev.human_pooled_kappa is not None:
        text += (
            f" For comparison, the median pooled kappa between pairs of human coders was "
            f"{_f(ev.human_pooled_kappa)} ({ev.human_pairs} pairs)."
        )
    return text


def evaluation_table(ev: Evaluation) -> Table:
    columns = ["Code", "Training n", "Suggested", "κ", "95% CI", "Precision@1", "Hit@3", "Human κ (median)"]
    rows: list[list[Any]] = []
    for c in ev.codes:
        rows.append(
            [
                c.path,
                c.examples,
                c.suggested if c.modelled else "not modelled",
                _nan_none(c.kappa),
                f"{_f(c.ci[0])} to {_f(c.ci[1])}" if c.modelled else "",
                c.precision_at_1,
                c.hit_at_3,
                c.human_kappa,
            ]
        )
    rows.append(
        [
            "All codes (pooled κ)",
            ev.segments,
            int(sum(c.suggested for c in ev.codes)),
            _nan_none(ev.pooled_kappa),
            f"{_f(ev.pooled_ci[0])} to {_f(ev.pooled_ci[1])}",
            ev.precision_at_1,
            ev.hit_at_3,
            ev.human_pooled_kappa,
        ]
    )
    note = (
        f"Leave-one-transcript-out over {ev.segments} segments of {ev.transcripts} transcripts; κ is Cohen's kappa "
        f"(pooled kappa in the last row) of the suggestions against the {ev.trained_from} layer; CI: percentile "
        f"bootstrap over segments ({ev.resamples} resamples, seed {ev.seed}). Training n: segments where the code "
        f"is present. Coverage {_pct(ev.coverage)}. Human κ: median over pairs of coders."
    )
    return Table(
        columns=columns,
        rows=rows,
        title="Agreement of Code Suggestions with the Consensus",
        note=note,
        label="tab:suggestions",
        group_rows={len(rows) - 1},
        formats={"κ": ".2f", "Precision@1": ".2f", "Hit@3": ".2f", "Human κ (median)": ".2f"},
    )
