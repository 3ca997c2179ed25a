"""The project store: SQLModel tables, engines, migrations and the audit trail."""
