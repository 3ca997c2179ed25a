"""``self.app`` typed as the workbench's ``QualcodeApp``.

The app imports the screens, so the screens name the app's class only for the type checker
(Textual's ``getters.app`` descriptor, declared under ``TYPE_CHECKING``): at run time ``self.app``
is Textual's own, and no module of the workbench imports the app back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeVar, cast

from textual.command import Provider
from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual import getters

    from .app import QualcodeApp

ResultType = TypeVar("ResultType")


class WorkbenchScreen(Screen[ResultType]):
    """A screen of the workbench: ``self.app`` is the ``QualcodeApp``."""

    if TYPE_CHECKING:
        app = getters.app(QualcodeApp)


class WorkbenchModalScreen(ModalScreen[ResultType]):
    """A modal screen of the workbench that uses the app's own attributes."""

    if TYPE_CHECKING:
        app = getters.app(QualcodeApp)


def workbench_app(provider: Provider) -> QualcodeApp:
    """The running workbench, for the command palette's providers (not DOM nodes, so no descriptor)."""
    return cast("QualcodeApp", provider.app)
