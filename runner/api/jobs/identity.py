"""Job identity tokens (`/job-xxxx/getIdentityToken`): JWTs signed RS256 with a key the engine keeps.

The key lives in `$RUNNER_HOME/identity-key.pem`, so tokens stay verifiable across engine restarts;
`IdentityKeys.jwks()` is what a third party would fetch to check them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from runner.errors import EnvironmentProblem, InvalidInput
from runner.spec.dxapp import DEFAULT_REGION

KEY_FILE = "identity-key.pem"
TOKEN_LIFETIME_S = 300
REGION = DEFAULT_REGION  # a job without one runs in its project's region
SUBJECT_CLAIMS = (
    "job_id", "root_execution_id", "root_executable_id", "root_executable_name", "root_executable_version",
    "executable_id", "app_name", "app_version", "project_id", "bill_to", "launched_by", "region",
    "job_worker_ipv4", "job_try",
)
DEFAULT_SUBJECT_CLAIMS = ("launched_by", "job_worker_ipv4")
_AUDIENCE = re.compile(r"[A-Za-z0-9._-]{1,255}")


def b64url(data: bytes) -> str:
    """base64url without padding, as JWTs and JWKs write bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    """The bytes of unpadded base64url text; ValueError if it is not base64url."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"not base64url: {exc}") from None


def _uint(value: int) -> str:
    return b64url(value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


def _json_part(value: Mapping[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode("utf-8"))


class IdentityKeys:
    """The engine's RSA signing key, its key ID and its public JWK set."""

    __slots__ = ("_private", "_public", "key_id")

    def __init__(self, private_key: rsa.RSAPrivateKey) -> None:
        self._private = private_key
        self._public = private_key.public_key()
        der = self._public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        self.key_id: str = hashlib.sha256(der).hexdigest()[:16]

    @classmethod
    def load_or_create(cls, home: Path) -> IdentityKeys:
        """The key in `home/identity-key.pem`, made (RSA 2048, mode 0600) the first time."""
        path = home / KEY_FILE
        if not path.exists():
            home.mkdir(parents=True, exist_ok=True)
            _create_key_file(path)
        try:
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as exc:
            raise EnvironmentProblem(f"cannot read the identity key {path}: {exc}",
                                     fix=f"remove {path}; the engine makes a new one") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise EnvironmentProblem(f"{path} is not an RSA private key", fix=f"remove {path}")
        return cls(key)

    def sign(self, claims: Mapping[str, Any]) -> str:
        """A compact JWT of `claims`, signed RS256."""
        header = {"alg": "RS256", "typ": "JWT", "kid": self.key_id}
        signing_input = f"{_json_part(header)}.{_json_part(claims)}"
        signature = self._private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def jwks(self) -> dict[str, Any]:
        """The public key as a JWK set."""
        numbers = self._public.public_numbers()
        key = {"kty": "RSA", "n": _uint(numbers.n), "e": _uint(numbers.e), "kid": self.key_id,
               "alg": "RS256", "use": "sig"}
        return {"keys": [key]}

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWT this key signed; ValueError if it is malformed or the signature is wrong.

        Only the signature is checked, not `exp`, `nbf` or `aud`: those are the receiver's to judge.
        """
        parts = token.split(".")
        if len(parts) != 3:
            raise ValueError("a JWT has three parts separated by '.'")
        try:
            header = json.loads(b64url_decode(parts[0]))
            claims = json.loads(b64url_decode(parts[1]))
        except (ValueError, UnicodeDecodeError) as exc:
            raise ValueError(f"malformed JWT: {exc}") from None
        if not isinstance(header, dict) or header.get("alg") != "RS256" or not isinstance(claims, dict):
            raise ValueError("not an RS256 JWT with a claims object")
        try:
            self._public.verify(b64url_decode(parts[2]), f"{parts[0]}.{parts[1]}".encode("ascii"),
                                padding.PKCS1v15(), hashes.SHA256())
        except (InvalidSignature, UnicodeEncodeError):
            raise ValueError("the JWT's signature does not match this key") from None
        return claims


def _create_key_file(path: Path) -> None:
    """Write a new key next to `path` and link it into place, so that two racing engines agree on one."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            os.fchmod(out.fileno(), 0o600)
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another engine made the key first: use theirs
    finally:
        tmp.unlink(missing_ok=True)


def _audience(body: Mapping[str, Any]) -> str:
    audience = body.get("audience")
    if audience is None:
        raise InvalidInput("job-xxxx/getIdentityToken is missing parameter audience")
    if not isinstance(audience, str) or not _AUDIENCE.fullmatch(audience):
        raise InvalidInput("audience input expected to be a non empty string between 1 and 255 characters "
                           "containing only alphanumeric or '.', '-', '_' characters")
    return audience


def _subject_claims(body: Mapping[str, Any]) -> list[str]:
    chosen = body.get("subject_claims", list(DEFAULT_SUBJECT_CLAIMS))
    if not isinstance(chosen, list) or not chosen or not all(isinstance(c, str) for c in chosen):
        raise InvalidInput("Expected subject_claims to be a nonempty array of strings")
    if any(c not in SUBJECT_CLAIMS for c in chosen):
        raise InvalidInput("The subject_claims array contains at least one invalid claim")
    for claim in chosen:
        if chosen.count(claim) > 1:
            raise InvalidInput(f"Claim '{claim}' is expected to only occur at most once in subject_claims")
    return chosen


def _executable(doc: Mapping[str, Any]) -> tuple[Any, Any, Any]:
    """`(executable ID, app name, app version)` of a job describe; the app fields are None for applets."""
    app = doc.get("app")
    if app:
        return app, doc.get("executableName"), doc.get("appVersion")
    return doc.get("applet"), None, None


def job_claims(job: Mapping[str, Any], worker_ip: str) -> dict[str, Any]:
    """The DNAnexus custom claims of a job (a describe, with an optional `root` describe of its root job)."""
    root = job.get("root") or job
    executable_id, app_name, app_version = _executable(job)
    root_executable_id, _, root_version = _executable(root)
    return {
        "job_id": job["id"],
        "root_execution_id": job.get("rootExecution", job["id"]),
        "root_executable_id": root_executable_id,
        "root_executable_name": root.get("executableName"),
        "root_executable_version": root_version,
        "executable_id": executable_id,
        "app_name": app_name,
        "app_version": app_version,
        "project_id": job.get("project"),
        "bill_to": job.get("billTo"),
        "launched_by": job.get("launchedBy"),
        "region": job.get("region") or REGION,
        "job_worker_ipv4": worker_ip,
        "job_try": job.get("try"),
    }


def subject(claims: Mapping[str, Any], chosen: list[str]) -> str:
    """The `sub` claim: `name;value;name;value` for the chosen claims in order (null shows as empty)."""
    return ";".join(f"{name};{'' if claims[name] is None else claims[name]}" for name in chosen)


def identity_token(keys: IdentityKeys, job: Mapping[str, Any], body: Mapping[str, Any], *, issuer: str,
                   worker_ip: str, now: float | None = None) -> str:
    """The signed JWT `/job-xxxx/getIdentityToken` answers for `job`, given the request `body`."""
    audience = _audience(body)
    chosen = _subject_claims(body)
    custom = job_claims(job, worker_ip)
    issued = int(time.time() if now is None else now)
    claims = {"iss": issuer, "sub": subject(custom, chosen), "aud": audience, "iat": issued, "nbf": issued,
              "exp": issued + TOKEN_LIFETIME_S, "jti": secrets.token_hex(16), **custom}
    return keys.sign(claims)
