"""A project file this user may not write, denied by the kernel, not simulated (issue 12).

Tests run as root, where no permission stops a write; so a child process drops to the `nobody`
user (after the parent has imported everything the commands need: nobody cannot read root's
Python installation) and runs the CLI there. Skipped where the tests do not run as root.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from qualcode.cli.main import cli

NOBODY = 65534


def _run_as_nobody(commands: list[list[str]]) -> list[dict]:
    """Run each CLI command in a child process with uid/gid ``nobody``; their exit codes and output."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop privileges, run, report, exit without cleanup
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(NOBODY)
            os.setuid(NOBODY)
            results = []
            for args in commands:
                done = CliRunner().invoke(cli, args)
                results.append(
                    {"code": done.exit_code, "out": done.stdout, "err": done.stderr, "exception": repr(done.exception)}
                )
            os.write(write, json.dumps(results).encode())
        finally:
            os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    return json.loads(data)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root to switch users")
def test_a_file_the_user_cannot_write_opens_read_only_and_refuses_writes_in_one_line(log_file):
    folder = Path(tempfile.mkdtemp(prefix="qualcode-perm-", dir="/tmp"))
    try:
        os.chmod(folder, 0o755)  # nobody may read the folder but not create files in it
        path = folder / "study.db"
        transcript = folder / "one.txt"
        transcript.write_text("Interviewer: How do you plan?\nTeacher: Together.\n", encoding="utf-8")
        run = CliRunner().invoke
        assert run(cli, ["init", str(path)]).exit_code == 0
        assert run(cli, ["-p", str(path), "import", str(transcript)]).exit_code == 0
        second = folder / "two.txt"
        second.write_text("Interviewer: And now?\nTeacher: Still together.\n", encoding="utf-8")
        before = path.read_bytes()
        os.chmod(path, 0o644)
        commands = [
            ["-p", str(path), "transcripts", "list"],
            ["-p", str(path), "coders", "add", "ana"],
            ["-p", str(path), "import", str(second)],
        ]
        warm = folder / "warm.db"  # the parent runs the same commands on a copy: their modules load
        warm.write_bytes(before)
        for args in commands:
            run(cli, [str(warm) if arg == str(path) else arg for arg in args])
        listing, add, again = _run_as_nobody(commands)
        assert listing["code"] == 0 and "one" in listing["out"], listing
        for refused in (add, again):
            assert refused["code"] == 2, refused
            assert refused["err"].strip() == f"error: project is read-only: {path}", refused
        assert path.read_bytes() == before
    finally:
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()
