"""Assisted coding, offline and measured: corpus search and auto-coding, code suggestions learned
from the team's consensus, de-identification, saturation. Never calls the network."""
