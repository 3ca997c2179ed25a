"""How the CLI ends: a QualcodeError is one line and its exit status; anything else is a bug,
logged with its traceback, shown as one line that says where the log is, exit status 1."""

from __future__ import annotations

import logging

from click.testing import CliRunner

import qualcode.log as qlog
from qualcode.cli.main import cli


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_an_unexpected_error_is_one_line_and_its_traceback_goes_to_the_log(project, log_file, monkeypatch):
    import qualcode.coding.catalog as catalog

    def broken(*args, **kwargs):
        raise RuntimeError("counting went wrong")

    monkeypatch.setattr(catalog, "project_counts", broken)
    result = run("status", "-p", project.target)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"error: unexpected RuntimeError: counting went wrong (a bug; details in {log_file})\n"
    logged = log_file.read_text(encoding="utf-8")
    assert "qualcode status: unexpected RuntimeError" in logged
    assert "Traceback (most recent call last)" in logged and 'raise RuntimeError("counting went wrong")' in logged


def test_the_log_names_the_whole_command(project, log_file, monkeypatch):
    import qualcode.coding.exchange as exchange

    monkeypatch.setattr(exchange, "export_codings", lambda *a, **k: 1 / 0)
    result = run("-p", project.target, "codings", "export")
    assert result.exit_code == 1 and result.stderr.startswith("error: unexpected ZeroDivisionError: division by zero")
    assert "qualcode codings export: unexpected ZeroDivisionError" in log_file.read_text(encoding="utf-8")


def test_errors_the_user_can_act_on_stay_one_line_and_are_not_logged(tmp_path, log_file):
    missing = tmp_path / "nowhere.db"
    result = run("status", "-p", str(missing))
    assert result.exit_code == 2
    assert result.stderr == f"error: {missing}: no project here (create one with `qualcode init {missing}`)\n"
    assert not log_file.exists()


def test_click_usage_errors_are_click_s_as_before(log_file):
    result = run("status", "--no-such-option")
    assert result.exit_code == 2 and "No such option '--no-such-option'" in result.stderr
    assert not log_file.exists()


def test_log_level_from_the_option_or_the_environment(project, log_file, monkeypatch):
    assert run("--log-level", "debug", "status", "-p", project.target).exit_code == 0
    assert qlog.logger.level == logging.DEBUG
    monkeypatch.setenv("QUALCODE_LOG_LEVEL", "error")
    assert run("status", "-p", project.target).exit_code == 0
    assert qlog.logger.level == logging.ERROR
    monkeypatch.setenv("QUALCODE_LOG_LEVEL", "loud")
    refused = run("status", "-p", project.target)
    assert refused.exit_code == 2
    assert refused.stderr == "error: unknown log level 'loud' (choose from debug, info, warning, error)\n"
    assert run("--log-level", "loud", "status").exit_code == 2  # click refuses it as a bad choice


def test_an_unexpected_error_with_a_many_line_message_is_still_one_line(project, log_file, monkeypatch):
    """Driver errors carry the SQL and a link on further lines: the terminal gets the first, the log all."""
    import qualcode.coding.catalog as catalog

    def broken(*args, **kwargs):
        raise RuntimeError("no such table: qc_case\n[SQL: SELECT count(*) FROM qc_case]\n(Background ...)")

    monkeypatch.setattr(catalog, "project_counts", broken)
    result = run("status", "-p", project.target)
    assert result.exit_code == 1
    assert result.stderr == f"error: unexpected RuntimeError: no such table: qc_case (a bug; details in {log_file})\n"
    assert "[SQL: SELECT count(*) FROM qc_case]" in log_file.read_text(encoding="utf-8")


def test_a_file_holding_only_the_meta_table_is_refused_in_one_line(tmp_path, log_file):
    import sqlite3

    from qualcode.store.migrations import SCHEMA_VERSION

    path = tmp_path / "hollow.db"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE qc_meta (key VARCHAR(100) PRIMARY KEY, value TEXT NOT NULL)")
    con.execute("INSERT INTO qc_meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
    con.commit()
    con.close()
    for args in (("status",), ("transcripts", "list"), ("agreement",)):
        result = run("-p", str(path), *args)
        assert result.exit_code == 2, args
        assert result.stderr.count("\n") == 1 and "damaged project" in result.stderr and "qc_case" in result.stderr
    assert not log_file.exists()
