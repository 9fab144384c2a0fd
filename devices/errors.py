"""Errors of the device layer, each with a message an operator can read."""
from __future__ import annotations


class DeviceError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DeviceNotFound(DeviceError):
    pass


class ProtocolError(DeviceError):
    """A frame the gateway refuses; `close_code` is the WebSocket close code to answer with."""

    def __init__(self, code: str, message: str, close_code: int = 4000):
        super().__init__(message)
        self.code = code
        self.close_code = close_code
