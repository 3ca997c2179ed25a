"""The project store: SQLModel tables, engines, migrations and the audit trail."""

from . import models
from .models import *  # noqa: F401,F403
