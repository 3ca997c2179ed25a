"""qualcode: a terminal workbench for team qualitative coding and cross-case synthesis."""

from .version import __version__


def open_project(target=None, *, create=False, user=None):
    """Open a project (file path or database URL); see :class:`qualcode.project.Project`."""
    from .project import open_project as _open

    return _open(target, create=create, user=user)


__all__ = ["__version__", "open_project"]
