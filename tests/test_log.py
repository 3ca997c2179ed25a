"""The log of unexpected errors: the path the user is told is where the traceback really is."""

from __future__ import annotations

import qualcode.log


def test_the_path_reported_is_the_file_written_even_after_the_environment_changes(log_file, monkeypatch, tmp_path):
    assert qualcode.log.configure() == log_file
    monkeypatch.setenv("QUALCODE_LOG", str(tmp_path / "elsewhere.log"))
    try:
        raise KeyError("segment 7")
    except KeyError as exc:
        told = qualcode.log.log_unexpected(exc, "test")
    assert told == log_file
    assert "KeyError: 'segment 7'" in log_file.read_text(encoding="utf-8")
    assert not (tmp_path / "elsewhere.log").exists()


def test_an_unknown_level_is_a_one_line_error(log_file):
    import pytest

    from qualcode.errors import QualcodeError

    with pytest.raises(QualcodeError, match="unknown log level 'loud'"):
        qualcode.log.configure("loud")


def test_a_log_file_that_cannot_be_opened_falls_back_to_stderr(tmp_path, monkeypatch, capsys):
    """A folder this user may not write (here: the log path is a folder) must not hide the error."""
    import qualcode.log as qlog

    monkeypatch.setenv("QUALCODE_LOG", str(tmp_path))  # a directory: opening it for writing fails
    qlog.reset()
    try:
        try:
            raise RuntimeError("the real problem")
        except RuntimeError as exc:
            where = qlog.log_unexpected(exc, "qualcode status")
    finally:
        qlog.reset()
    assert str(where) == "<stderr>"
    err = capsys.readouterr().err
    assert "qualcode status: unexpected RuntimeError" in err and "the real problem" in err
