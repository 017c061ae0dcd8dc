"""Exam packs: one sealed file holding an exam's challenges and its policy.

Layout of a ``*.tapack`` file::

    b"TUIAPACK"  8 bytes, the magic
    u32 (big endian)  length of the header
    header       canonical JSON, readable by anyone (``pack inspect``): format, pack id,
                 creation time, challenge titles, the policy, the KDF's parameters and salt,
                 the cipher's nonce, and a check value of the key
    ciphertext   AES-256-GCM over zlib(payload); the magic and the header are its associated
                 data, so changing a byte of either (say, the policy's time) fails decryption

The key comes from the start code through scrypt (N = 2**16, r = 8, p = 1: about half a
second and 64 MiB per try), so guessing codes is slow, and an 80-bit random code makes it
hopeless. The payload -- briefs, starters, visible and hidden tests, their file names and the
manifests -- exists only inside the ciphertext. Reference solutions and mutants are never read
into a pack.

The payload: u32 length of an index (JSON: per challenge its id, title, content hash,
manifest and ``[path, offset, length]`` of each file), the index, then the files' bytes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import struct
import tempfile
import tomllib
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

from tui_assess import __version__
from tui_assess.challenge.model import Challenge
from tui_assess.errors import UserError
from tui_assess.exam import codes
from tui_assess.exam.policy import ExamPolicy
from tui_assess.safecopy import read_tree, show
from tui_assess.snapshot import not_workspace

MAGIC = b"TUIAPACK"
FORMAT_NAME = "tui-assess-pack"
FORMAT_VERSION = 1
SUFFIX = ".tapack"
CIPHER = "AES-256-GCM"

#: scrypt cost of new packs, and the bounds a pack's header may ask for (a hostile header
#: must not make the reader allocate gigabytes).
SCRYPT_N = 2**16
SCRYPT_R = 8
SCRYPT_P = 1
SCRYPT_N_RANGE = (2**10, 2**20)
SCRYPT_R_MAX = 16
SCRYPT_P_MAX = 4

MAX_HEADER_BYTES = 1 << 20
MAX_PACK_BYTES = 512 << 20
MAX_PAYLOAD_BYTES = 1 << 30
_CHECK_TAG = b"tui-assess start code check v1"

#: The parts of a challenge folder a pack carries (solution/ and mutants/ never).
PACKED_FOLDERS = ("starter", "tests/visible", "tests/hidden")
BRIEF = "brief.md"


class WrongCode(UserError):
    """The start code does not open this pack."""


@dataclass(frozen=True)
class PackHeader:
    """What anyone can read from a pack: nothing about briefs, tests or file names."""

    pack_id: str
    created: str
    tool_version: str
    titles: list[str]
    policy: ExamPolicy
    kdf: dict[str, Any]
    nonce: bytes
    key_check: bytes
    raw: bytes
    """The header's bytes as stored (authenticated with the ciphertext)."""
    ciphertext_offset: int

    def to_json(self) -> dict[str, Any]:
        """`pack inspect --json`."""
        return {
            "pack": self.pack_id,
            "created": self.created,
            "tool_version": self.tool_version,
            "challenges": self.titles,
            "time_minutes": self.policy.time_minutes,
            "policy": self.policy.to_json(),
            "sealed": {
                "cipher": CIPHER,
                "kdf": {k: v for k, v in self.kdf.items() if k not in ("salt", "salt_bytes")},
            },
        }


@dataclass(frozen=True)
class PackedChallenge:
    """One challenge as an opened pack holds it (in memory)."""

    id: str
    title: str
    content_hash: str
    """The content hash of the hiring team's challenge folder (solution and mutants
    included): what `grade` finds when it regrades with that folder."""
    manifest: dict[str, Any]
    files: dict[str, bytes]
    """``brief.md``, ``starter/...``, ``tests/visible/...``, ``tests/hidden/...``."""

    def hidden_suite(self) -> dict[str, bytes]:
        """The hidden tests, by path inside the suite folder."""
        prefix = "tests/hidden/"
        return {p[len(prefix):]: b for p, b in self.files.items() if p.startswith(prefix)}


@dataclass(frozen=True)
class OpenedPack:
    header: PackHeader
    challenges: list[PackedChallenge] = field(default_factory=list)

    @property
    def pack_id(self) -> str:
        return self.header.pack_id

    @property
    def policy(self) -> ExamPolicy:
        return self.header.policy


@dataclass(frozen=True)
class BuiltPack:
    path: Path
    pack_id: str
    start_code: str
    challenges: list[dict[str, str]]

    def to_json(self) -> dict[str, Any]:
        """`pack build --json`."""
        return {"pack": str(self.path), "pack_id": self.pack_id, "start_code": self.start_code,
                "challenges": self.challenges}


# --------------------------------------------------------------------------- keys


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(value: Any, what: str) -> bytes:
    if not isinstance(value, str):
        raise _not_pack(f"its header has no {what}")
    try:
        return base64.b64decode(value.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise _not_pack(f"its header's {what} is not base64") from None


def _derive(code: str, kdf: dict[str, Any]) -> tuple[bytes, bytes]:
    """(AES key, key-check key) from a canonical start code."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    material = Scrypt(salt=kdf["salt_bytes"], length=64, n=kdf["n"], r=kdf["r"],
                      p=kdf["p"]).derive(code.encode("ascii"))
    return material[:32], material[32:]


def _key_check(check_key: bytes, pack_id: str) -> bytes:
    return hmac.new(check_key, _CHECK_TAG + pack_id.encode("ascii"), hashlib.sha256).digest()


# --------------------------------------------------------------------------- building


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        # JSON's escapes are TOML's (raw non-ASCII kept: TOML has no surrogate escapes).
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, list) and all(not isinstance(v, dict) for v in value):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    raise ValueError(f"a manifest value cannot be written: {value!r}")


def manifest_toml(manifest: dict[str, Any]) -> str:
    """A manifest (as tomllib reads challenge.toml) written back as TOML.

    Enough for the challenge format: scalars and arrays, tables of scalars, arrays of
    tables of scalars.
    """
    top, tables, arrays = [], [], []
    for key, value in manifest.items():
        name = json.dumps(key)
        if isinstance(value, dict):
            body = "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in value.items())
            tables.append(f"\n[{name}]\n{body}")
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for entry in value:
                body = "".join(f"{json.dumps(k)} = {_toml_value(v)}\n" for k, v in entry.items())
                arrays.append(f"\n[[{name}]]\n{body}")
        else:
            top.append(f"{name} = {_toml_value(value)}\n")
    return "".join(top + tables + arrays)


def _challenge_files(ch: Challenge) -> dict[str, bytes]:
    files: dict[str, bytes] = {BRIEF: ch.brief_path.read_bytes()}
    for folder in PACKED_FOLDERS:
        for rel, data in read_tree(ch.path / folder, skip=not_workspace).items():
            files[f"{folder}/{rel}"] = data
    return files


def _payload(challenges: list[Challenge], policy: ExamPolicy) -> bytes:
    index: list[dict[str, Any]] = []
    blobs: list[bytes] = []
    offset = 0
    for ch in challenges:
        manifest = tomllib.loads(ch.manifest_path.read_text(encoding="utf-8"))
        if not policy.hints:
            manifest.pop("hints", None)
        entries = []
        for rel, data in sorted(_challenge_files(ch).items()):
            entries.append([rel, offset, len(data)])
            blobs.append(data)
            offset += len(data)
        index.append({"id": ch.id, "title": ch.title, "content_hash": ch.content_hash(),
                      "manifest": manifest, "files": entries})
    head = json.dumps({"challenges": index}, sort_keys=True).encode("utf-8")
    return struct.pack(">I", len(head)) + head + b"".join(blobs)


def build_pack(
    challenges: list[Challenge],
    out: Path,
    policy: ExamPolicy,
    *,
    scrypt_n: int = SCRYPT_N,
) -> BuiltPack:
    """Seal ``challenges`` and ``policy`` into ``out`` (which must not exist yet).

    Returns the start code: it is printed once and stored nowhere.
    """
    if not challenges:
        raise UserError("a pack needs at least one challenge.")
    ids = [c.id for c in challenges]
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise UserError(f"challenge {twice[0]!r} is given twice.")
    out = Path(out)
    if out.exists() or out.is_symlink():
        raise UserError(f"{show(out)} already exists; choose another file name.")
    if not out.parent.is_dir():
        raise UserError(f"{show(out.parent)}: no such folder.")
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    code = codes.new_code()
    pack_id = secrets.token_hex(8)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    kdf: dict[str, Any] = {"name": "scrypt", "n": scrypt_n, "r": SCRYPT_R, "p": SCRYPT_P,
                           "salt": _b64(salt)}
    key, check_key = _derive(codes.normalise(code) or "", {**kdf, "salt_bytes": salt})
    header = {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "pack_id": pack_id,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tool_version": __version__,
        "titles": [c.title for c in challenges],
        "policy": policy.to_json(),
        "kdf": kdf,
        "cipher": CIPHER,
        "nonce": _b64(nonce),
        "key_check": _b64(_key_check(check_key, pack_id)),
    }
    raw = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    prefix = MAGIC + struct.pack(">I", len(raw)) + raw
    sealed = AESGCM(key).encrypt(nonce, zlib.compress(_payload(challenges, policy), 9), prefix)
    _write_new(out, prefix + sealed)
    return BuiltPack(out, pack_id, code, [{"id": c.id, "title": c.title} for c in challenges])


def _write_new(out: Path, data: bytes) -> None:
    """Write through a fresh temp file, then link it into place without replacing anything."""
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        try:
            os.link(tmp, out)
        except FileExistsError:
            raise UserError(f"{show(out)} already exists; choose another file name.") from None
        except OSError as exc:
            raise UserError(f"{show(out)} cannot be written: {exc.strerror or exc}.") from None
    finally:
        Path(tmp).unlink(missing_ok=True)


# --------------------------------------------------------------------------- reading


def _not_pack(why: str, path: Path | None = None) -> UserError:
    where = f"{show(path)} is" if path is not None else "this is"
    return UserError(f"{where} not a tui-assess exam pack ({why}).")


def _read(path: Path) -> bytes:
    path = Path(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        raise UserError(f"{show(path)} does not exist.") from None
    except OSError as exc:
        raise UserError(f"{show(path)} cannot be read: {exc.strerror or exc}.") from None
    with os.fdopen(fd, "rb") as f:
        import stat

        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise UserError(f"{show(path)} is not a file.")
        data = f.read(MAX_PACK_BYTES + 1)
    if len(data) > MAX_PACK_BYTES:
        raise _not_pack(f"it is larger than {MAX_PACK_BYTES >> 20} MiB", path)
    return data


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_header(data: bytes, path: Path | None = None) -> PackHeader:
    if not data.startswith(MAGIC):
        raise _not_pack("it does not start with the pack magic", path)
    if len(data) < len(MAGIC) + 4:
        raise _not_pack("it is cut short", path)
    (size,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    if size > MAX_HEADER_BYTES or start + size > len(data):
        raise _not_pack("its header is cut short or too large", path)
    raw = data[start : start + size]
    try:
        head = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _not_pack("its header is not JSON", path) from None
    if not isinstance(head, dict) or head.get("format") != FORMAT_NAME:
        raise _not_pack("its header does not name the pack format", path)
    if head.get("format_version") != FORMAT_VERSION:
        raise UserError(
            f"{show(path) if path else 'this pack'} uses pack format version "
            f"{head.get('format_version')!r}; this tui-assess reads version {FORMAT_VERSION}."
        )
    pack_id = head.get("pack_id")
    if not isinstance(pack_id, str) or not pack_id.isalnum() or not pack_id.isascii() \
            or len(pack_id) > 64:
        raise _not_pack("its header has no valid pack id", path)
    if head.get("cipher") != CIPHER:
        raise _not_pack(f"its cipher is not {CIPHER}", path)
    kdf = head.get("kdf")
    if not isinstance(kdf, dict) or kdf.get("name") != "scrypt":
        raise _not_pack("its key derivation is not scrypt", path)
    n, r, p = _int(kdf.get("n")), _int(kdf.get("r")), _int(kdf.get("p"))
    lo, hi = SCRYPT_N_RANGE
    if n is None or r is None or p is None or not lo <= n <= hi or n & (n - 1) \
            or not 1 <= r <= SCRYPT_R_MAX or not 1 <= p <= SCRYPT_P_MAX:
        raise _not_pack("its scrypt parameters are out of bounds", path)
    salt = _unb64(kdf.get("salt"), "salt")
    nonce = _unb64(head.get("nonce"), "nonce")
    check = _unb64(head.get("key_check"), "key check")
    if not 16 <= len(salt) <= 64 or len(nonce) != 12 or len(check) != 32:
        raise _not_pack("its salt, nonce or key check has the wrong size", path)
    titles = head.get("titles")
    if not isinstance(titles, list) or not titles or not all(isinstance(t, str) for t in titles):
        raise _not_pack("its header lists no challenge titles", path)
    try:
        policy = ExamPolicy.from_json(head.get("policy"))
    except UserError as exc:
        raise _not_pack(str(exc).rstrip("."), path) from None
    return PackHeader(
        pack_id=pack_id,
        created=str(head.get("created", "")),
        tool_version=str(head.get("tool_version", "")),
        titles=titles,
        policy=policy,
        kdf={"name": "scrypt", "n": n, "r": r, "p": p, "salt": kdf["salt"], "salt_bytes": salt},
        nonce=nonce,
        key_check=check,
        raw=raw,
        ciphertext_offset=start + size,
    )


def read_header(path: Path) -> PackHeader:
    """The public part of a pack (`pack inspect`); UserError when it is not a pack."""
    return parse_header(_read(path), Path(path))


def wrong_code_sentence() -> str:
    return "that start code does not open this exam; check it with the proctor and try again."


def check_code(header: PackHeader, code: str) -> tuple[bytes, str]:
    """The AES key for a start code (and the code in canonical form); WrongCode when the code
    does not open this pack. Nothing is decrypted."""
    canonical = codes.normalise(code)
    if canonical is None:
        raise WrongCode("a start code has 16 letters and digits, like ABCD-EFGH-JKMN-PQRS; "
                        "check it with the proctor and try again.")
    key, check_key = _derive(canonical, header.kdf)
    if not hmac.compare_digest(_key_check(check_key, header.pack_id), header.key_check):
        raise WrongCode(wrong_code_sentence())
    return key, canonical


def _safe_rel(rel: Any) -> str:
    if not isinstance(rel, str) or not rel or "\x00" in rel or "\\" in rel:
        raise ValueError(f"a file name in the pack is not valid: {rel!r}")
    p = PurePosixPath(rel)
    if p.is_absolute() or any(part in ("", ".", "..") for part in rel.split("/")):
        raise ValueError(f"a file name in the pack leads outside its folder: {rel!r}")
    if rel != BRIEF and not any(rel.startswith(f + "/") for f in PACKED_FOLDERS):
        raise ValueError(f"a file in the pack is not a brief, starter or test file: {rel!r}")
    return rel


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    out = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
    if len(out) > MAX_PAYLOAD_BYTES or not inflater.eof:
        raise ValueError("the payload inflates beyond its bound or is cut short")
    return out


def _unpack(payload: bytes) -> list[PackedChallenge]:
    (size,) = struct.unpack(">I", payload[:4])
    index = json.loads(payload[4 : 4 + size].decode("utf-8"))
    data = payload[4 + size :]
    out = []
    for entry in index["challenges"]:
        files: dict[str, bytes] = {}
        for rel, offset, length in entry["files"]:
            if not (isinstance(offset, int) and isinstance(length, int)
                    and 0 <= offset <= offset + length <= len(data)):
                raise ValueError("a file's bytes lie outside the payload")
            files[_safe_rel(rel)] = data[offset : offset + length]
        if BRIEF not in files:
            raise ValueError(f"challenge {entry['id']!r} has no brief")
        manifest = entry["manifest"]
        if not isinstance(manifest, dict):
            raise ValueError("a manifest is not a table")
        out.append(PackedChallenge(str(entry["id"]), str(entry["title"]),
                                   str(entry["content_hash"]), manifest, files))
    return out


def open_pack(path: Path, code: str) -> OpenedPack:
    """Decrypt a pack in memory. WrongCode (exit 2) when the code does not open it."""
    data = _read(path)
    header = parse_header(data, Path(path))
    key, _ = check_code(header, code)
    return decrypt(data, header, key)


def decrypt(data: bytes, header: PackHeader, key: bytes) -> OpenedPack:
    """The pack's contents, in memory, with a key check_code returned."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    prefix = data[: header.ciphertext_offset]
    try:
        compressed = AESGCM(key).decrypt(header.nonce, data[header.ciphertext_offset :], prefix)
    except InvalidTag:
        raise UserError("the exam pack was changed after it was built (its contents fail "
                        "their authentication); ask the hiring team for a new copy.") from None
    try:
        challenges = _unpack(_inflate(compressed))
    except (ValueError, KeyError, TypeError, struct.error, zlib.error) as exc:
        raise UserError(f"the exam pack's contents are malformed ({exc}).") from None
    return OpenedPack(header, challenges)


def read_pack_bytes(path: Path) -> tuple[bytes, PackHeader]:
    """The whole pack and its header (the exam keeps the bytes to decrypt after consent)."""
    data = _read(path)
    return data, parse_header(data, Path(path))
