"""Errors raised by configuration and storage set-up."""


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""


class ClockError(ValueError):
    """An "HH:MM" clock time or a time window that does not parse; the message says what is wrong."""
