"""The one error of the enrollment rules, shared by every module that writes."""

from __future__ import annotations


class EnrollmentError(Exception):
    """A rule of the enrollment was broken; `message` is shown to the user as is."""

    def __init__(self, message: str, *, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.code = code
