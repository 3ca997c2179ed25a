"""``qualcode serve`` in a real browser: Debian's Chromium driven by Playwright.

One browser, one page: the sign-in page shows nothing of the project after a wrong secret, then the
right token opens the workbench as that coder, a hotkey codes a segment, and the coding is in the
database. What the page "shows" is read from every byte the server sent it over its websocket
(the terminal draws on a canvas, so the page's DOM holds no text): nothing sent before the sign-in
succeeds may contain a transcript title, a speaker's words or a code name.

Skips cleanly where there is no Chromium at /usr/bin/chromium (.ci/install-browser installs it)
or no Playwright (the test extra); it never downloads a browser.
"""

from __future__ import annotations

import importlib.util
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.skipif(not CHROMIUM.exists(), reason="no Chromium at /usr/bin/chromium (.ci/install-browser)"),
    pytest.mark.skipif(importlib.util.find_spec("playwright") is None, reason="playwright is not installed"),
    pytest.mark.skipif(importlib.util.find_spec("textual_serve") is None, reason="textual-serve is not installed"),
]

ANSI = re.compile(
    r"\x1b(\[[0-9;?<>=]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[PX^_][^\x1b]*\x1b\\|[()][A-Z0-9]|[=>78MDEc])"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shown(frames: list) -> str:
    """The text in the terminal output the server sent the page (escape sequences removed)."""
    raw = b"".join(f if isinstance(f, bytes) else f.encode() for f in frames if not _is_meta(f))
    return ANSI.sub("", raw.decode("utf-8", errors="replace"))


def _is_meta(frame) -> bool:
    return isinstance(frame, str) and frame.startswith("[")  # JSON messages (pong, exit), not terminal output


def wait_for(condition, timeout: float, what: str, page=None) -> None:
    """Poll ``condition``; with a ``page``, Playwright's own wait, so the page's events keep arriving."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            if page is not None:
                page.screenshot(path=str(Path(os.environ.get("QUALCODE_BROWSER_SHOTS", "/tmp")) / "timed-out.png"))
            raise AssertionError(f"timed out waiting for {what}")
        if page is not None:
            page.wait_for_timeout(50)
        else:
            time.sleep(0.05)


def keys(page, *steps: str) -> None:
    """Type each step (a key name such as Enter is pressed), a moment apart as a person would."""
    for step in steps:
        if step in ("Enter", "Tab"):
            page.keyboard.press(step)
        else:
            page.keyboard.type(step)
        page.wait_for_timeout(250)


def rows(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.fixture
def served(demo_copy, tmp_path):
    """The demo study served on a free port, with a new coder dee (no codings yet) holding a token."""
    from click.testing import CliRunner

    from qualcode.cli.main import cli
    from qualcode.coding.access_tokens import issue_token
    from qualcode.project import Project

    added = CliRunner().invoke(cli, ["coders", "add", "dee", "-p", str(demo_copy), "--as", "lee"])
    assert added.exit_code == 0, added.output
    with Project(demo_copy) as project, project.transaction() as s:
        token = issue_token(s, "lee", "dee", target=str(demo_copy))
    port = free_port()
    settings = tmp_path / "settings.toml"
    settings.write_text("")  # the defaults, whatever the developer's own settings say
    env = dict(os.environ, QUALCODE_SETTINGS=str(settings))
    server = subprocess.Popen(
        [sys.executable, "-m", "qualcode", "serve", "-p", str(demo_copy), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
        start_new_session=True,  # its browser sessions are its children: stopped with it
    )

    def listening() -> bool:
        assert server.poll() is None, server.stdout.read().decode() if server.stdout else "server ended"
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0

    try:
        yield demo_copy, port, token, lambda: wait_for(listening, 60, "qualcode serve to listen")
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_sign_in_then_code_a_segment_in_chromium(served, tmp_path):
    from playwright.sync_api import sync_playwright

    db, port, token, server_ready = served
    titles = [t for (t,) in rows(db, "SELECT title FROM qc_transcript")]
    code_names = [n for (n,) in rows(db, "SELECT DISTINCT name FROM qc_code")]
    first_words = [  # the first words of segments (a line the coding screen would draw whole)
        w
        for (w,) in rows(
            db,
            "SELECT substr(t.text, s.start + 1, 20) FROM qc_segment s JOIN qc_transcript t ON t.id = s.transcript_id "
            'WHERE s."end" - s.start > 40 LIMIT 50',
        )
    ]
    secret_words = titles + code_names + first_words
    assert len(titles) > 10 and "Shared vision and strategy" in code_names

    frames: list = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            server_ready()  # the server started while the browser did

            def received(frame) -> None:
                frames.append(frame)

            page.on("websocket", lambda ws: ws.on("framereceived", received))
            page.goto(f"http://127.0.0.1:{port}/", wait_until="domcontentloaded")
            wait_for(lambda: "sign in" in shown(frames), 60, "the sign-in screen", page)
            page.focus(".xterm-helper-textarea")  # the terminal takes the keys (the name field has the focus)
            keys(page, "dee", "Enter", "not-" + token, "Enter")
            wait_for(lambda: "wrong name or secret" in shown(frames), 30, "the wrong secret refused", page)
            page.wait_for_timeout(300)  # whatever else that session would send
            before = shown(frames)
            leaked = [w for w in secret_words if w in before]
            assert not leaked, f"the page was sent project text before sign-in: {leaked[:3]}"
            page.screenshot(path=str(tmp_path / "wrong-secret.png"))

            keys(page, token, "Enter")  # the focus is back on the secret
            wait_for(lambda: any(t in shown(frames) for t in titles), 60, "the home screen", page)
            keys(page, "Enter")  # open the highlighted transcript
            wait_for(lambda: "round 1" in shown(frames), 60, "the coding screen", page)
            page.keyboard.press("1")  # the hotkey of "Shared vision and strategy"
            query = (
                "SELECT k.name, k.hotkey FROM qc_coding c JOIN qc_coder d ON d.id = c.coder_id "
                "JOIN qc_code k ON k.id = c.code_id WHERE d.name = 'dee'"
            )
            wait_for(lambda: bool(rows(db, query)), 30, "dee's coding in the database", page)
            page.screenshot(path=str(tmp_path / "coded.png"))
        finally:
            browser.close()
    assert rows(db, query) == [("Shared vision and strategy", "1")]
    actors = rows(db, "SELECT actor FROM qc_audit WHERE action = 'coding.apply' ORDER BY id DESC LIMIT 1")
    assert actors == [("dee",)]
    signins = rows(db, "SELECT action FROM qc_audit WHERE action LIKE 'serve.%' ORDER BY id")
    assert signins == [("serve.wrong_secret",), ("serve.sign_in",)]
