"""Receipt codes: what a candidate reads out at submission, pinning the submitted log.

``receipt = base32(SHA-256(tag ‖ pack id ‖ final link))``, first 80 bits, in four groups of
four (codes.py). The final link is the hash chain's last link, so it commits to every event
in order, and through the keyframes' blob hashes to every file; the pack id ties the receipt
to one exam. Nothing secret goes in: anyone can recompute a file's receipt from the file, and
that is the point -- the proctor writes the code down at submission, when the file is still
the candidate's; a file changed afterwards, even with its whole chain recomputed, has another
final link and so, short of an 80-bit second preimage, another receipt.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_assess.exam import codes
from tui_assess.session import store

_TAG = b"tui-assess receipt v1\x00"


def receipt_code(pack_id: str, final_link: str) -> str:
    """The receipt for a session of exam ``pack_id`` whose last link is ``final_link``."""
    digest = hashlib.sha256(_TAG + pack_id.encode("utf-8") + b"\x00" +
                            bytes.fromhex(final_link)).digest()
    return codes.grouped(codes.encode(digest))


def exam_facts(start: dict[str, Any] | None) -> dict[str, Any] | None:
    """The ``exam`` table of a session_start payload, or None for a session of no exam."""
    exam = (start or {}).get("exam")
    return exam if isinstance(exam, dict) and isinstance(exam.get("pack_id"), str) else None


@dataclass
class ReceiptCheck:
    """The outcome of checking a receipt code against a session file."""

    ok: bool
    reason: str
    given: str
    pack_id: str | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "given": self.given,
                "pack": self.pack_id, "notes": self.notes}


def check_receipt(path: Path, code: str) -> ReceiptCheck:
    """Does ``code`` pin this exact file? (Call it on a file ``verify`` found intact: the
    receipt pins the final link, the chain check ties every event and blob to it.)

    UserError when the file is not a session file at all.
    """
    conn = store.open_readonly(Path(path))
    try:
        first = conn.execute("SELECT payload FROM events ORDER BY seq LIMIT 1").fetchone()
        last = conn.execute("SELECT kind, link FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    finally:
        conn.close()
    given = codes.normalise(code)
    shown = codes.grouped(given) if given else code.strip()
    if given is None:
        return ReceiptCheck(False, "a receipt code has 16 letters and digits in four groups "
                                   "(like ABCD-EFGH-JKMN-PQRS); this one does not.", shown)
    try:
        start = store.row_payload(first[0]) if first else None
    except ValueError:
        start = None
    exam = exam_facts(start)
    if exam is None or last is None:
        return ReceiptCheck(False, "this session is not from an exam: it has no receipt.", shown)
    pack_id = exam["pack_id"]
    try:
        expected = codes.normalise(receipt_code(pack_id, str(last[1])))
    except ValueError:
        expected = None
    if expected == given:
        check = ReceiptCheck(True, f"the receipt {shown} pins this file: it is the file "
                                   "submitted.", shown, pack_id)
        if last[0] != "session_end":
            check.notes.append("The file does not end with session_end (it was not closed "
                               "after submission); the receipt still pins every event in it.")
        return check
    differ = codes.differing_positions(given, expected or "")
    why = "the receipt does not match this file: it was changed after submission, or the " \
          "receipt belongs to another file."
    check = ReceiptCheck(False, why, shown, pack_id)
    if expected is not None and 1 <= len(differ) <= 2:
        at = " and ".join(str(i + 1) for i in differ)
        check.notes.append(
            f"The code differs from this file's receipt only at character {at}: check how it "
            "was written down before concluding anything."
        )
    return check
