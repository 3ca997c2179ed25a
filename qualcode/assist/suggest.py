"""Code suggestions learned from the team's own reconciled coding, offline.

What is learned from what
-------------------------
* Examples: the segments of the **consensus layer** (every segment with a consensus decision on a
  code of the codebook, or finished by every coder), or, if the lead chooses, one coder's finished
  segments (their latest round per transcript). A segment's labels are the codes present there;
  a finished segment without a code is an example of "none of these".
* Features: lemmas and lemma bigrams of the segment's text, TF-IDF weighted (``assist.features``).
* Model: one logistic regression per code (one-vs-rest, scikit-learn's liblinear, balanced class
  weights). Its scores are calibrated into probabilities with Platt scaling fitted on
  out-of-fold scores (folds by transcript), and each code gets the probability threshold that
  maximises Cohen's kappa with the labels on those out-of-fold predictions. Below its threshold
  a code is not suggested; a segment that shares no feature with the training vocabulary gets
  no suggestion at all (the model abstains).
* Codes with fewer than ``MIN_EXAMPLES`` positive (or negative) examples get no model.

Stored as data
--------------
A model is one ``SuggestModel`` row (``qc_suggest_model``) whose JSON payload holds the vocabulary,
the idf, each code's coefficients, intercept, calibration and threshold: no pickle, the same on
SQLite and PostgreSQL, and loaded without retraining. The model in memory is always built from
the payload, so a reloaded model gives exactly the probabilities the trained one did.

Who sees suggestions
--------------------
The lead always (the reconciliation queue, the workbench, ``qualcode suggest show``). Coders once
the project is unblinded; during a blind round only when the lead enables it for the project
(``set_enabled``, the ``qc_meta`` key ``SHOW_IN_BLIND_ROUNDS``), because coders who share one
assistant come to agree faster but also to think alike.

Nothing here opens a network connection.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
from sqlalchemy import and_
from sqlmodel import Session, col, select

from ..codebook.lookup import code_paths, get_codebook
from ..coding.blinding import find_coder, is_blinded, require_lead
from ..coding.layers import CONSENSUS, latest_rounds, layer_select, named_layer
from ..errors import BlindingError, QualcodeError
from ..store import audit
from ..store.access import Access
from ..store.enums import CoderRole
from ..store.ids import require_id
from ..store.models import (
    Code,
    Codebook,
    Coder,
    ConsensusDecision,
    Meta,
    Segment,
    SegmentStatus,
    SuggestModel,
    Transcript,
)
from ..version import __version__
from .accept import SuggestingWork as SuggestingWork  # re-exported: accepting a suggestion
from .features import (
    EMBEDDING_FEATURES,
    EMBEDDING_TEXT,
    EMBEDDING_WEIGHT,
    FEATURES,
    FEATURES_TEXT,
    Weights,
    embed,
    fit_vectorizer,
    lemmatizer,
    text_features,
)

MODEL_FORMAT = 1
MODEL_NAME = "one-vs-rest logistic regression (scikit-learn liblinear, balanced class weights), Platt-calibrated"
MIN_EXAMPLES = 3  # positive (and negative) examples a code needs for a model of its own
REGULARISATION_C = 1.0  # scikit-learn's default
THRESHOLD_GRID = tuple(round(x, 2) for x in np.arange(0.10, 0.91, 0.05))
CALIBRATION_FOLDS = 3
DECIMALS = 7  # stored weights are rounded; the model in memory is built from the stored payload
SHOW_IN_BLIND_ROUNDS = "suggest_in_blind_rounds"  # qc_meta key: "1" when the lead lets coders see suggestions
TOP_K = 3


class SuggestionsOff(BlindingError):
    """Suggestions are not shown to this person now (a blind round the lead has not opened to them)."""


# -- the training data -------------------------------------------------------------------------
@dataclass
class TrainingSet:
    """Segments with their text, transcript and labels (segments x codes, True where present)."""

    codebook: Codebook
    source: str  # "consensus" or a coder's name
    codes: list[Code]  # the applicable codes of the codebook, tree order by position
    paths: dict[int, str]
    segment_ids: np.ndarray
    transcript_ids: np.ndarray
    texts: list[str]
    labels: np.ndarray

    @property
    def examples(self) -> np.ndarray:
        """Positive examples per code."""
        return self.labels.sum(axis=0).astype(int)


def _segment_texts(session: Session, segment_ids: list[int]) -> tuple[np.ndarray, list[str]]:
    rows = session.exec(
        select(Segment.id, Segment.transcript_id, Segment.start, Segment.end)
        .where(col(Segment.id).in_(segment_ids))
        .order_by(col(Segment.transcript_id), col(Segment.position))
    ).all()
    texts: dict[int, str] = {}
    for tid in sorted({r[1] for r in rows}):
        transcript = session.get(Transcript, tid)
        texts[tid] = transcript.text if transcript is not None else ""
    by_id = {sid: (tid, texts[tid][a:b]) for sid, tid, a, b in rows}
    return np.array([by_id[s][0] for s in segment_ids], dtype=np.int64), [by_id[s][1] for s in segment_ids]


def _consensus_segments(session: Session, code_ids: list[int]) -> set[int]:
    """Segments the consensus layer covers: a decision on a code of the codebook, or finished by every coder
    (the agreement module's rule: every coder of role "coder" who has marked anything done)."""
    decided = set(
        session.exec(select(ConsensusDecision.segment_id).where(col(ConsensusDecision.code_id).in_(code_ids))).all()
    )
    working = set(session.exec(select(SegmentStatus.coder_id).distinct()).all())
    coders = [
        require_id(c) for c in session.exec(select(Coder).where(Coder.role == CoderRole.CODER)) if c.id in working
    ]
    if coders:
        done: dict[int, set[int]] = {}
        for seg, coder in session.exec(
            select(SegmentStatus.segment_id, SegmentStatus.coder_id).where(col(SegmentStatus.coder_id).in_(coders))
        ).all():
            done.setdefault(seg, set()).add(coder)
        decided |= {seg for seg, who in done.items() if len(who) == len(coders)}
    return decided


def _coder_segments(session: Session, coder_id: int) -> set[int]:
    """Segments a coder marked done in their latest round of each transcript."""
    latest = latest_rounds(coder_id)
    return set(
        session.exec(
            select(SegmentStatus.segment_id)
            .join(Segment, col(Segment.id) == SegmentStatus.segment_id)
            .join(
                latest,
                and_(latest.c.transcript_id == Segment.transcript_id, latest.c.round == SegmentStatus.round),
            )
            .where(SegmentStatus.coder_id == coder_id)
        ).all()
    )


def training_set(session: Session, codebook: Codebook, source: str = CONSENSUS) -> TrainingSet:
    """The examples a model of ``codebook`` learns from: the consensus layer or one coder's finished work."""
    codes = list(
        session.exec(
            select(Code)
            .where(Code.codebook_id == codebook.id, Code.status == "active")
            .order_by(col(Code.position), col(Code.id))
        )
    )
    paths = code_paths(list(session.exec(select(Code).where(Code.codebook_id == codebook.id))))
    codes = [c for c in codes if c.applicable]
    code_ids = [require_id(c) for c in codes]
    layer = named_layer(session, source)
    segments = (
        _consensus_segments(session, code_ids)
        if layer.is_consensus
        else _coder_segments(session, require_id(layer.coder_id))
    )
    segment_ids = sorted(segments)
    column = {cid: i for i, cid in enumerate(code_ids)}
    row = {sid: i for i, sid in enumerate(segment_ids)}
    labels = np.zeros((len(segment_ids), len(codes)), dtype=bool)
    for seg, code, _, _ in session.exec(layer_select(layer.coder_id, codebook_id=codebook.id)).all():
        if seg in row and code in column:
            labels[row[seg], column[code]] = True
    transcript_ids, texts = _segment_texts(session, segment_ids) if segment_ids else (np.zeros(0, np.int64), [])
    return TrainingSet(
        codebook, source, codes, paths, np.array(segment_ids, dtype=np.int64), transcript_ids, texts, labels
    )


# -- the model -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Suggestion:
    code_id: int
    path: str
    hotkey: str | None
    confidence: float  # calibrated probability
    threshold: float

    @property
    def suggested(self) -> bool:
        """Above the code's calibrated threshold (what the workbench shows)."""
        return self.confidence >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {
            "code_id": self.code_id,
            "code": self.path,
            "hotkey": self.hotkey,
            "confidence": self.confidence,
            "threshold": self.threshold,
            "suggested": self.suggested,
        }


@dataclass
class CodeModel:
    code_id: int
    guid: str
    path: str
    hotkey: str | None
    examples: int
    coef: np.ndarray
    intercept: float
    slope: float  # Platt scaling: p = 1 / (1 + exp(-(slope * score + offset)))
    offset: float
    threshold: float


@dataclass
class Model:
    """A trained suggestion model: built from (and written as) its JSON payload."""

    weights: Weights
    codes: list[CodeModel]
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.codes:
            self.coef = np.vstack([c.coef for c in self.codes]).T  # features x codes
        else:
            self.coef = np.zeros((len(self.weights.vocabulary), 0))
        self.intercept = np.array([c.intercept for c in self.codes], dtype=float)
        self.slope = np.array([c.slope for c in self.codes], dtype=float)
        self.offset = np.array([c.offset for c in self.codes], dtype=float)
        self.threshold = np.array([c.threshold for c in self.codes], dtype=float)

    # -- predicting
    @property
    def uses_embeddings(self) -> bool:
        return bool(self.info.get("embeddings"))

    def probabilities_of(
        self, features: list[list[str]], embedded: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Calibrated probabilities (texts x codes) and, per text, how many features the model knows;
        ``embedded`` holds the texts' sentence embeddings when the model uses them."""
        x = _design(self.weights.transform(features), embedded if self.uses_embeddings else None)
        scores = np.asarray(x @ self.coef) + self.intercept
        probs = _sigmoid(scores * self.slope + self.offset)
        known = np.array([self.weights.known(f) for f in features], dtype=int)
        return probs, known

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        return self.probabilities_of(text_features(texts), embed(texts) if self.uses_embeddings else None)

    def ranked(self, probs: np.ndarray, known: int, k: int = TOP_K) -> list[Suggestion]:
        """The ``k`` most probable codes of one text (empty when it shares no feature with the model)."""
        if known == 0 or not self.codes:
            return []
        order = np.argsort(-probs, kind="stable")[:k]
        return [
            Suggestion(
                self.codes[i].code_id,
                self.codes[i].path,
                self.codes[i].hotkey,
                float(probs[i]),
                self.codes[i].threshold,
            )
            for i in order
        ]

    def suggest(self, text: str, k: int = TOP_K, *, all_ranked: bool = False) -> list[Suggestion]:
        """The codes suggested for ``text`` (above their thresholds), most probable first; ``all_ranked``
        keeps the top ``k`` whatever their confidence."""
        probs, known = self.probabilities([text])
        ranked = self.ranked(probs[0], int(known[0]), k if all_ranked else len(self.codes))
        return ranked if all_ranked else [s for s in ranked if s.suggested][:k]

    # -- storing
    def to_payload(self) -> dict[str, Any]:
        return {
            "format": MODEL_FORMAT,
            "info": self.info,
            "vocabulary": self.weights.vocabulary,
            "idf": [round(float(v), DECIMALS) for v in self.weights.idf],
            "codes": [
                {
                    "code_id": c.code_id,
                    "guid": c.guid,
                    "path": c.path,
                    "hotkey": c.hotkey,
                    "examples": c.examples,
                    "coef": [round(float(v), DECIMALS) for v in c.coef],
                    "intercept": round(c.intercept, DECIMALS),
                    "slope": round(c.slope, DECIMALS),
                    "offset": round(c.offset, DECIMALS),
                    "threshold": c.threshold,
                }
                for c in self.codes
            ],
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Model:
        if payload.get("format") != MODEL_FORMAT:
            raise QualcodeError(
                f"the stored suggestion model has format {payload.get('format')!r}; this qualcode reads format "
                f"{MODEL_FORMAT}: train it again with `qualcode suggest train`"
            )
        weights = Weights(list(payload["vocabulary"]), np.array(payload["idf"], dtype=float))
        codes = [
            CodeModel(
                int(c["code_id"]),
                str(c["guid"]),
                str(c["path"]),
                c.get("hotkey"),
                int(c["examples"]),
                np.array(c["coef"], dtype=float),
                float(c["intercept"]),
                float(c["slope"]),
                float(c["offset"]),
                float(c["threshold"]),
            )
            for c in payload["codes"]
        ]
        return cls(weights, codes, dict(payload.get("info", {})))


def _design(tfidf: Any, embedded: np.ndarray | None) -> Any:
    """The model's inputs: the TF-IDF block, then (with the embeddings extra) the embedding block."""
    if embedded is None:
        return tfidf
    from scipy.sparse import csr_matrix, hstack  # type: ignore[import-untyped]

    return hstack([tfidf, csr_matrix(np.asarray(embedded, dtype=float) * EMBEDDING_WEIGHT)], format="csr")


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(x, -500, 500)))


def _folds(groups: np.ndarray, y: np.ndarray, n_splits: int = CALIBRATION_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Out-of-fold splits: by transcript when there are three or more, else stratified."""
    from sklearn.model_selection import GroupKFold, StratifiedKFold

    n_groups = len(np.unique(groups))
    if n_groups >= 3:
        return list(GroupKFold(n_splits=min(n_splits, n_groups)).split(np.zeros(len(y)), y, groups))
    splits = max(2, min(n_splits, int(y.sum()), int((~y).sum())))
    return list(StratifiedKFold(n_splits=splits, shuffle=True, random_state=0).split(np.zeros(len(y)), y))


def _classifier():
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=REGULARISATION_C, class_weight="balanced", solver="liblinear", max_iter=1000)


def _platt(scores: np.ndarray, y: np.ndarray, iterations: int = 100) -> tuple[float, float]:
    """Platt's (1999) sigmoid ``1 / (1 + exp(-(a * score + b)))`` fitted to out-of-fold scores by Newton's
    method on the log loss, with Platt's smoothed targets (Lin, Lin & Weng 2007 give the algorithm)."""
    positives, negatives = int(y.sum()), int((~y).sum())
    t = np.where(y, (positives + 1.0) / (positives + 2.0), 1.0 / (negatives + 2.0))
    a, b = 0.0, math.log((positives + 1.0) / (negatives + 1.0))
    for _ in range(iterations):
        p = _sigmoid(a * scores + b)
        w = np.maximum(p * (1 - p), 1e-12)
        g = np.array([((p - t) * scores).sum(), (p - t).sum()])
        h = np.array([[(w * scores * scores).sum() + 1e-12, (w * scores).sum()], [(w * scores).sum(), w.sum() + 1e-12]])
        step = np.linalg.solve(h, g)
        a, b = a - float(step[0]), b - float(step[1])
        if abs(step).max() < 1e-10:
            break
    return a, b


def best_threshold(probs: np.ndarray, y: np.ndarray) -> float:
    """The grid threshold whose predictions agree best (Cohen's kappa) with ``y``; the higher one on a tie."""
    from ..agreement.statistics import cohen_kappa

    best, best_kappa = THRESHOLD_GRID[-1], -math.inf
    for t in THRESHOLD_GRID:
        kappa = cohen_kappa((probs >= t).tolist(), y.tolist(), labels=[False, True])
        if not math.isnan(kappa) and kappa >= best_kappa:
            best, best_kappa = t, kappa
    return float(best)


def fit_model(
    features: list[list[str]],
    labels: np.ndarray,
    groups: np.ndarray,
    codes: list[Code],
    paths: dict[int, str],
    info: dict[str, Any] | None = None,
    embedded: np.ndarray | None = None,
) -> Model:
    """Learn a model from segments' features and labels (segments x codes); ``groups`` are their transcripts.
    ``embedded`` (texts x dimensions) adds the sentence embeddings of the optional extra."""
    weights = fit_vectorizer(features)
    x = _design(weights.transform(features), embedded)
    info = dict(info or {})
    info["embeddings"] = embedded is not None
    models: list[CodeModel] = []
    if len(weights.vocabulary):
        for j, code in enumerate(codes):
            y = labels[:, j].astype(bool)
            if int(y.sum()) < MIN_EXAMPLES or int((~y).sum()) < MIN_EXAMPLES:
                continue
            oof = np.full(len(y), np.nan)
            for train, test in _folds(groups, y):
                if y[train].all() or not y[train].any():
                    continue
                oof[test] = _classifier().fit(x[train], y[train]).decision_function(x[test])
            seen = ~np.isnan(oof)
            final = _classifier().fit(x, y)
            if seen.sum() >= 2 and y[seen].any() and not y[seen].all():
                slope, offset = _platt(oof[seen], y[seen])
                threshold = best_threshold(_sigmoid(oof[seen] * slope + offset), y[seen])
            else:  # too few held-out scores to calibrate on: the plain logistic probability, threshold .5
                slope, offset, threshold = 1.0, 0.0, 0.5
            coef = np.round(final.coef_[0].astype(float), DECIMALS)
            models.append(
                CodeModel(
                    require_id(code),
                    code.guid,
                    paths.get(require_id(code), code.name),
                    code.hotkey,
                    int(y.sum()),
                    coef,
                    round(float(final.intercept_[0]), DECIMALS),
                    round(slope, DECIMALS),
                    round(offset, DECIMALS),
                    threshold,
                )
            )
    model = Model(weights, models, info)
    # What is kept is what is stored: rebuild from the payload (rounded as stored).
    return Model.from_payload(model.to_payload())


def describe(data: TrainingSet, *, embeddings: bool = False) -> dict[str, Any]:
    """The facts a methods paragraph names, kept in the model's payload."""
    import sklearn

    return {
        "codebook": data.codebook.name,
        "codebook_id": data.codebook.id,
        "codebook_version": data.codebook.version,
        "trained_from": data.source,
        "segments": len(data.segment_ids),
        "transcripts": len(np.unique(data.transcript_ids)),
        "features": f"{FEATURES}+{EMBEDDING_FEATURES}" if embeddings else FEATURES,
        "features_text": f"{FEATURES_TEXT}, and {EMBEDDING_TEXT}" if embeddings else FEATURES_TEXT,
        "lemmatizer": lemmatizer(),
        "model": MODEL_NAME,
        "C": REGULARISATION_C,
        "min_examples": MIN_EXAMPLES,
        "scikit_learn": sklearn.__version__,
        "qualcode": __version__,
        "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "untrained_codes": [data.paths[require_id(c)] for c, n in zip(data.codes, data.examples) if n < MIN_EXAMPLES],
    }


def learn(data: TrainingSet, *, embeddings: bool = False) -> Model:
    """A model of ``data`` (no database work); ``embeddings`` adds the optional extra's sentence embeddings."""
    embedded = embed(data.texts) if embeddings else None
    info = describe(data, embeddings=embeddings)
    return fit_model(
        text_features(data.texts), data.labels, data.transcript_ids, data.codes, data.paths, info, embedded
    )


# -- training, storing and loading ---------------------------------------------------------------
@dataclass(frozen=True)
class TrainResult:
    model_id: int
    codebook: str
    trained_from: str
    segments: int
    transcripts: int
    codes_modelled: list[tuple[str, int]]  # (path, examples)
    codes_without_model: list[str]
    seconds: float


def train(
    project: Access,
    viewer: str | None,
    *,
    codebook: str | None = None,
    source: str = CONSENSUS,
    embeddings: bool = False,
) -> TrainResult:
    """Train the codebook's model and store it (replacing the one before): the lead's action, audited.
    ``embeddings`` adds sentence embeddings (the optional extra; one line saying how to install it if absent)."""
    import time

    started = time.perf_counter()
    with project.read() as s:
        require_lead(s, viewer, "training the suggestion model")
        cb = get_codebook(s, codebook)
        if source != CONSENSUS:
            find_coder(s, source)
        data = training_set(s, cb, source)
    what = "the consensus layer" if source == CONSENSUS else f"{source}'s finished segments"
    if len(data.segment_ids) == 0:
        raise QualcodeError(f"nothing to learn from: {what} holds no segment of codebook {cb.name!r}")
    model = learn(data, embeddings=embeddings)
    if not model.codes:
        raise QualcodeError(
            f"nothing to learn from: no code of {cb.name!r} has {MIN_EXAMPLES} examples in {what} "
            f"({len(data.segment_ids)} segments)"
        )
    payload = model.to_payload()
    with project.transaction() as s:
        before = [audit.row_dict(r) for r in s.exec(select(SuggestModel).where(SuggestModel.codebook_id == cb.id))]
        for old in s.exec(select(SuggestModel).where(SuggestModel.codebook_id == cb.id)).all():
            s.delete(old)
        row = SuggestModel(
            codebook_id=require_id(cb),
            trained_from=source,
            features=str(model.info["features"]),
            trained_by=viewer or "",
            examples=len(data.segment_ids),
            payload=payload,
        )
        s.add(row)
        s.flush()
        summary = {k: v for k, v in audit.row_dict(row).items() if k != "payload"}
        summary["codes"] = [c.path for c in model.codes]
        for b in before:
            b.pop("payload", None)
        audit.record(
            s,
            viewer or "",
            "suggest.train",
            entity="qc_suggest_model",
            entity_id=row.id,
            before={"replaced": before} if before else None,
            after=summary,
        )
        model_id = require_id(row)
    return TrainResult(
        model_id,
        cb.name,
        source,
        len(data.segment_ids),
        len(np.unique(data.transcript_ids)),
        [(c.path, c.examples) for c in model.codes],
        model.info.get("untrained_codes", []),
        time.perf_counter() - started,
    )


def stored_model(session: Session, codebook: Codebook) -> Model | None:
    """The codebook's stored model, or None when none was trained.

    Codes the lead has since retired, merged or deleted are left out (never suggested), and each
    code's path and hotkey are today's, not those at training time.
    """
    row = session.exec(
        select(SuggestModel).where(SuggestModel.codebook_id == codebook.id).order_by(col(SuggestModel.id).desc())
    ).first()
    if row is None:
        return None
    model = Model.from_payload(row.payload)
    all_codes = list(session.exec(select(Code).where(Code.codebook_id == codebook.id)))
    paths = code_paths(all_codes)
    active = {require_id(c): c for c in all_codes if c.status == "active" and c.applicable}
    kept = []
    for code in model.codes:
        current = active.get(code.code_id)
        if current is not None:
            code.path, code.hotkey = paths[code.code_id], current.hotkey
            kept.append(code)
    if len(kept) != len(model.codes):
        model = Model(model.weights, kept, model.info)
    model.info["model_id"] = row.id
    return model


# -- who sees suggestions ----------------------------------------------------------------------
def shown_in_blind_rounds(session: Session) -> bool:
    row = session.get(Meta, SHOW_IN_BLIND_ROUNDS)
    return row is not None and row.value == "1"


def suggestions_allowed(session: Session, viewer: str | None) -> bool:
    """May ``viewer`` see suggestions now? The lead always; others unless a blind round keeps them off."""
    if viewer is not None and find_coder(session, viewer).role == CoderRole.LEAD:
        return True
    return not is_blinded(session) or shown_in_blind_rounds(session)


def require_suggestions(session: Session, viewer: str | None) -> None:
    if not suggestions_allowed(session, viewer):
        raise SuggestionsOff(
            "suggestions are off during a blind round (the lead can turn them on with `qualcode suggest enable`)"
        )


def set_enabled(project: Access, viewer: str | None, enabled: bool) -> bool:
    """Show (or hide) suggestions to coders during blind rounds: the lead's choice, audited. Returns
    whether anything changed."""
    with project.transaction() as s:
        require_lead(s, viewer, "turning suggestions on or off")
        row = s.get(Meta, SHOW_IN_BLIND_ROUNDS)
        before = row.value if row is not None else "0"
        value = "1" if enabled else "0"
        if before == value:
            return False
        if row is None:
            row = Meta(key=SHOW_IN_BLIND_ROUNDS, value=value)
            s.add(row)
        row.value = value
        audit.record(
            s,
            viewer or "",
            "suggest.enable" if enabled else "suggest.disable",
            entity="qc_meta",
            before={SHOW_IN_BLIND_ROUNDS: before},
            after={SHOW_IN_BLIND_ROUNDS: value},
        )
        return True


@dataclass(frozen=True)
class SuggestState:
    """What a screen needs to show suggestions: whether it may, and the model (None: none trained or not allowed)."""

    allowed: bool
    model: Model | None
    codebook: str


def suggest_state(project: Access, viewer: str | None, codebook: str | None = None) -> SuggestState:
    """The model ``viewer`` may use for ``codebook`` (the active one by default)."""
    with project.read() as s:
        cb = get_codebook(s, codebook)
        allowed = suggestions_allowed(s, viewer)
        return SuggestState(allowed, stored_model(s, cb) if allowed else None, cb.name)


def segment_text(session: Session, segment_id: int) -> str:
    seg = session.get(Segment, segment_id)
    if seg is None:
        raise QualcodeError(f"unknown segment id {segment_id}")
    transcript = session.get_one(Transcript, seg.transcript_id)
    return transcript.text[seg.start : seg.end]


def suggestions_for(
    project: Access,
    viewer: str | None,
    segment_id: int,
    *,
    codebook: str | None = None,
    k: int = TOP_K,
    all_ranked: bool = False,
) -> list[Suggestion]:
    """The suggestions for one segment (checks who may see them; no model is one line saying how to train)."""
    with project.read() as s:
        require_suggestions(s, viewer)
        cb = get_codebook(s, codebook)
        model = stored_model(s, cb)
        if model is None:
            raise QualcodeError(
                f"no suggestion model for {cb.name!r}: the lead trains one with `qualcode suggest train`"
            )
        text = segment_text(s, segment_id)
    return model.suggest(text, k, all_ranked=all_ranked)


def allowed_for(project: Access, viewer: str | None) -> bool:
    """``suggestions_allowed`` in a read of its own (the workbench asks it every few seconds)."""
    with project.read() as s:
        return suggestions_allowed(s, viewer)


def suggestions_by_segment(model: Model, texts: dict[int, str], k: int = TOP_K) -> dict[int, list[Suggestion]]:
    """The suggestions (above threshold, most probable first) for many segments at once: one spaCy pass."""
    ids = list(texts)
    probs, known = model.probabilities([texts[i] for i in ids])
    out: dict[int, list[Suggestion]] = {}
    for row, segment_id in enumerate(ids):
        ranked = model.ranked(probs[row], int(known[row]), len(model.codes))
        out[segment_id] = [s for s in ranked if s.suggested][:k]
    return out
