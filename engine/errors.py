"""Errors of the engine's 任务调度; messages are Chinese because the console shows them next to
the field named in `errors`."""
from __future__ import annotations


class JobError(Exception):
    """Bad input for a job (schedule, custom job form). `errors` maps a form field to its message."""

    status = 422

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class JobNotFound(JobError):
    status = 404
