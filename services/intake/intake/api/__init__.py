"""Intake's HTTP edge: problem details, authentication of agencies and officers."""
