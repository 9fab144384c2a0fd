"""Errors raised by configuration and storage set-up."""


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the setting."""
