"""What a service needs of a project: sessions to read with and transactions to write in.

``qualcode.project.Project`` satisfies it; services in the core take an ``Access`` so they
never import the facade that sits on top of them.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from sqlmodel import Session


class Access(Protocol):
    def read(self) -> AbstractContextManager[Session]:
        """A session for reading; nothing it does is committed."""
        ...

    def transaction(self) -> AbstractContextManager[Session]:
        """One write transaction: committed whole at the end, rolled back whole on any error."""
        ...
