"""Errors a user can cause. The CLI prints their message as one line and exits with code 2."""

from __future__ import annotations


class UserError(Exception):
    """Bad input from the user: an unknown challenge, a malformed file, a missing folder.

    The message is one complete sentence that names the file and, where it applies, the field.
    """

    exit_code = 2
