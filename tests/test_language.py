"""The shared offline English pipeline (qualcode.assist.language): lemmas, offsets, no network."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from qualcode.assist import language


def test_lemmas_of_inflected_forms_are_their_dictionary_forms():
    assert language.lemmas("I taught; she is teaching, he teaches.") == [
        "i", "teach", "she", "be", "teach", "he", "teach"
    ]  # fmt: skip
    assert language.lemma("Teachers") == "teacher"  # looked up lower-cased
    assert language.lemma("children") == "child"


def test_tokens_carry_character_offsets_into_the_text():
    text = "Kids  were\nlearning. Mail ana@example.org"
    toks = language.tokens(text)
    assert [t.text for t in toks] == ["Kids", "were", "learning", ".", "Mail", "ana@example.org"]
    for t in toks:
        assert text[t.start : t.end] == t.text
    assert [t.lemma for t in toks[:3]] == ["kid", "be", "learn"]
    assert toks[3].is_punct and toks[5].like_email and not toks[0].is_stop and toks[1].is_stop


def test_pipe_tokens_agrees_with_tokens():
    texts = ["We taught them.", "", "Going home"]
    assert list(language.pipe_tokens(texts)) == [language.tokens(t) for t in texts]


def test_the_lookup_table_is_in_use_where_installed():
    pytest.importorskip("spacy_lookups_data")
    assert language.lemmatizer_name() == language.LOOKUP_TABLE


@pytest.mark.parametrize(
    ("word", "expected"),
    [("taught", "teach"), ("teaching", "teach"), ("teaches", "teach"), ("running", "run"),
     ("stopped", "stop"), ("making", "make"), ("hoped", "hope"), ("tried", "try"),
     ("studies", "study"), ("classes", "class"), ("kids", "kid"), ("was", "be"), ("bus", "bus")],
)  # fmt: skip
def test_the_rule_fallback(word, expected):
    assert language._rule_lemma(word) == expected


REFUSE_NETWORK = """
import socket
def refuse(*args, **kwargs):
    raise OSError("network refused by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
from qualcode.assist import language
assert language.lemmas("They taught") == ["they", "teach"], language.lemmas("They taught")
print(language.lemmatizer_name())
"""


def test_works_with_networking_refused_in_a_fresh_process():
    done = subprocess.run([sys.executable, "-c", REFUSE_NETWORK], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() in (language.LOOKUP_TABLE, language.RULES)


def test_works_with_networking_refused_in_process(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    language.english.cache_clear()
    assert language.lemmas("Went teaching") == ["go", "teach"]


def test_forms_of_a_lemma_are_exactly_the_words_with_that_lemma():
    pytest.importorskip("spacy_lookups_data")
    forms = language.forms_of("teach")
    assert {"teach", "teaches", "teaching", "taught"} <= forms
    assert all(language.lemma(f) == "teach" for f in forms)
    assert "teacher" not in forms
    assert language.forms_of("qualcodeish") == {"qualcodeish"}  # not in the table: its own only
