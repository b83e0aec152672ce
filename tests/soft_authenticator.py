"""A software WebAuthn authenticator for the tests: an ES256 (P-256) key made with ``cryptography``,
"packed" self-attestation or "none" attestation at registration, signed assertions at sign-in,
encoded by hand (a few lines of CBOR) so nothing of the library under test produces its input."""

from __future__ import annotations

import base64
import hashlib
import json
import os

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _head(major: int, n: int) -> bytes:
    if n < 24:
        return bytes([major << 5 | n])
    if n < 256:
        return bytes([major << 5 | 24, n])
    if n < 65536:
        return bytes([major << 5 | 25]) + n.to_bytes(2, "big")
    return bytes([major << 5 | 26]) + n.to_bytes(4, "big")


def cbor(value) -> bytes:
    """Canonical-enough CBOR for WebAuthn structures: ints, byte and text strings, maps."""
    if isinstance(value, int) and not isinstance(value, bool):
        return _head(0, value) if value >= 0 else _head(1, -1 - value)
    if isinstance(value, bytes):
        return _head(2, len(value)) + value
    if isinstance(value, str):
        raw = value.encode()
        return _head(3, len(raw)) + raw
    if isinstance(value, dict):
        return _head(5, len(value)) + b"".join(cbor(k) + cbor(v) for k, v in value.items())
    raise TypeError(type(value))


class SoftAuthenticator:
    """One credential on one software key; ``origin`` is what its browser would report."""

    UP_UV = 0x05
    ATTESTED = 0x40

    def __init__(self, origin: str = "http://localhost", rp_id: str = "localhost"):
        self.origin, self.rp_id = origin, rp_id
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.credential_id = os.urandom(32)
        self.sign_count = 0

    def _cose_key(self) -> bytes:
        numbers = self.key.public_key().public_numbers()
        return cbor({1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")})

    def _client_data(self, kind: str, challenge: str, origin: str | None = None) -> bytes:
        return json.dumps({"type": kind, "challenge": challenge, "origin": origin or self.origin,
                           "crossOrigin": False}).encode()

    def _sign(self, auth_data: bytes, client_data: bytes) -> bytes:
        return self.key.sign(auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256()))

    def create(self, options: dict, fmt: str = "packed", origin: str | None = None) -> dict:
        """The answer of navigator.credentials.create() to the server's options."""
        assert options["rp"]["id"] == self.rp_id
        client_data = self._client_data("webauthn.create", options["challenge"], origin)
        auth_data = (hashlib.sha256(self.rp_id.encode()).digest() + bytes([self.UP_UV | self.ATTESTED])
                     + self.sign_count.to_bytes(4, "big") + bytes(16)
                     + len(self.credential_id).to_bytes(2, "big") + self.credential_id + self._cose_key())
        statement = {"alg": -7, "sig": self._sign(auth_data, client_data)} if fmt == "packed" else {}
        attestation = cbor({"fmt": fmt, "attStmt": statement, "authData": auth_data})
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "attestationObject": b64url(attestation),
                             "transports": ["usb"]}}

    def get(self, options: dict, *, origin: str | None = None, count_up: bool = True) -> dict:
        """The answer of navigator.credentials.get(): an ES256 signature over the authenticator
        data and the client data's hash, with the signature counter moved on."""
        allowed = [c["id"] for c in options.get("allowCredentials", [])]
        assert b64url(self.credential_id) in allowed, "the server did not ask for this key"
        if count_up:
            self.sign_count += 1
        client_data = self._client_data("webauthn.get", options["challenge"], origin)
        auth_data = hashlib.sha256(self.rp_id.encode()).digest() + bytes([self.UP_UV]) + \
            self.sign_count.to_bytes(4, "big")
        return {"id": b64url(self.credential_id), "rawId": b64url(self.credential_id), "type": "public-key",
                "response": {"clientDataJSON": b64url(client_data), "authenticatorData": b64url(auth_data),
                             "signature": b64url(self._sign(auth_data, client_data)), "userHandle": None}}
