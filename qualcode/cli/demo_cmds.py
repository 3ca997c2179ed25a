"""``qualcode demo``: build the demo study and open the workbench on it."""

from __future__ import annotations

from pathlib import Path

import click

from ..errors import QualcodeError
from .common import as_option


def _demo_target() -> str:
    """The top-level ``qualcode -p X demo`` if given; never $QUALCODE_PROJECT (a real study)."""
    ctx = click.get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    return (obj or {}).get("project") or "qualcode-demo.db"


@click.command("demo")
@click.option(
    "--project",
    "-p",
    "project_target",
    default=_demo_target,
    show_default="qualcode-demo.db",
    metavar="PATH_OR_URL",
    help="Where to build the demo project (a file, or an empty database URL).",
)
@click.option("--rebuild", is_flag=True, help="Delete an existing demo project file and build it again.")
@click.option("--no-tui", is_flag=True, help="Build the project and print what it holds; do not open the workbench.")
@as_option
def demo_cmd(project_target: str, rebuild: bool, no_tui: bool, viewer: str | None) -> None:
    """Build a ready demo study (17 transcripts, 5 schools, 3 coders, a lead) and open the workbench.

    The workbench opens as the lead analyst `lee` (use --as ana to be a coder).
    """
    from ..demo import LEAD, build_demo, is_demo
    from ..project import Project
    from ..store.engine import is_url, redacted

    path = None if is_url(project_target) else Path(project_target)
    project = None
    if path is not None and path.exists():
        existing = Project(path, user=viewer)  # --as is checked against the project as it is, before any rebuild
        if not is_demo(existing):
            existing.close()
            raise QualcodeError(f"{path}: exists and is not a demo project; choose another --project")
        if rebuild:
            existing.close()
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        else:
            project = existing
            click.echo(f"opening the demo project {path} (use --rebuild for a fresh one)", err=True)
    if project is None:
        click.echo(f"building the demo project in {redacted(project_target)} ...", err=True)
        project = build_demo(project_target)
    with project:
        viewer = viewer or LEAD
        project.user = viewer
        if no_tui:
            from ..ingest.catalog import list_transcripts

            with project.read() as s:
                transcripts = list_transcripts(s)
            cases = {t.case for t in transcripts if t.case is not None}
            click.echo(f"demo project: {project.shown_target}")
            click.echo(
                f"{len(cases)} cases, {len(transcripts)} transcripts, {sum(t.segments for t in transcripts)} segments"
            )
            click.echo(f"open it with: qualcode code --coder {viewer} -p {project.shown_target}")
            return
        from ..tui.app import create_app

        create_app(project, viewer).run()
