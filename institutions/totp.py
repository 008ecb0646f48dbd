"""Time-based one-time passwords (RFC 6238, HMAC-SHA1, 6 digits, 30-second steps) — the optional second
factor for PBoC roles. Works with any authenticator app (the otpauth:// URI is shown as a QR code)."""

import base64
import hashlib
import hmac
import secrets
import struct
import time
from urllib.parse import quote

DIGITS = 6
STEP = 30
ISSUER = "小微企业专项行动门户"


def new_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def code_at(secret: str, moment: float, digits: int = DIGITS) -> str:
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(moment // STEP)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 10**digits
    return f"{number:0{digits}d}"


def matching_step(secret: str, code: str, *, now: float | None = None, window: int = 1) -> int | None:
    """The time step whose code `code` is — this step or `window` steps either side (clock drift) — or None.

    The caller remembers the last step it accepted for the user and refuses any step not after it: a code
    is good once (RFC 6238 §5.2)."""
    code = "".join(ch for ch in (code or "") if ch.isdigit())
    if not secret or len(code) != DIGITS:
        return None
    now = time.time() if now is None else now
    for k in range(-window, window + 1):
        moment = now + k * STEP
        if hmac.compare_digest(code_at(secret, moment), code):
            return int(moment // STEP)
    return None


def verify(secret: str, code: str, *, now: float | None = None, window: int = 1) -> bool:
    """True if `code` is the code of this step or of `window` steps either side (clock drift)."""
    return matching_step(secret, code, now=now, window=window) is not None


def provisioning_uri(secret: str, username: str) -> str:
    label = quote(f"{ISSUER}:{username}")
    return f"otpauth://totp/{label}?secret={secret}&issuer={quote(ISSUER)}&digits={DIGITS}&period={STEP}"
