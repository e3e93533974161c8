"""Personal data at rest: AES-GCM encryption and a keyed hash for lookups (docs/design.md, "Security and data").

ID numbers, names and phones are stored encrypted; an ID number is found through its HMAC, never by
decrypting every row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def derive_key(secret: str, purpose: str) -> bytes:
    """A 32-byte key for one purpose, so one configured secret never serves two uses."""
    return hashlib.sha256(f"renshe:{purpose}:{secret}".encode()).digest()


class PiiVault:
    """Encrypts, decrypts and fingerprints personal data with keys from settings."""

    def __init__(self, secret: str) -> None:
        self._aead = AESGCM(derive_key(secret, "encrypt"))
        self._hash_key = derive_key(secret, "lookup")

    def encrypt(self, plaintext: str | None) -> bytes | None:
        """Nonce + ciphertext; None stays None."""
        if plaintext is None:
            return None
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, plaintext.encode(), None)

    def decrypt(self, blob: bytes | None) -> str | None:
        """The plaintext of ``encrypt``'s output."""
        if blob is None:
            return None
        data = bytes(blob)
        return self._aead.decrypt(data[:12], data[12:], None).decode()

    def lookup_hash(self, value: str) -> bytes:
        """A keyed hash: equal values match, and nobody without the key can test a guess."""
        return hmac.new(self._hash_key, value.encode(), hashlib.sha256).digest()


def mask_id_number(number: str) -> str:
    """``430527********123X``: enough for a clerk to recognise, not enough to misuse."""
    return number[:6] + "*" * 8 + number[14:]


def new_secret() -> str:
    """A fresh random secret for local stacks."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()
