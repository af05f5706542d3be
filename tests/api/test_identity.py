"""Job identity tokens: RS256 JWTs that verify with the published JWK set, with DNAnexus's claims and errors."""

from __future__ import annotations

import base64
import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from runner.api.jobs.identity import IdentityKeys, identity_token
from runner.errors import EnvironmentProblem, InvalidInput

NOW = 1_800_000_000.7
ISSUER = "http://127.0.0.1:8123"


@pytest.fixture(scope="module")
def keys_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("home")


@pytest.fixture(scope="module")
def keys(keys_home: Path) -> IdentityKeys:
    return IdentityKeys.load_or_create(keys_home)


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _part(token: str, index: int) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(_b64decode(token.split(".")[index]))
    return doc


def _root_job(**changes: Any) -> dict[str, Any]:
    job = {"id": "job-root", "rootExecution": "job-root", "applet": "applet-A", "executableName": "align",
           "project": "project-P", "billTo": "user-local", "launchedBy": "user-alice", "try": 0}
    job.update(changes)
    return job


def _token(keys: IdentityKeys, job: dict[str, Any], body: dict[str, Any]) -> str:
    return identity_token(keys, job, body, issuer=ISSUER, worker_ip="172.17.0.5", now=NOW)


# -- the key -------------------------------------------------------------------------------------------


def test_the_key_file_is_private_and_reused(keys: IdentityKeys, keys_home: Path) -> None:
    path = keys_home / "identity-key.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    again = IdentityKeys.load_or_create(keys_home)
    assert again.key_id == keys.key_id
    assert again.verify(keys.sign({"a": 1})) == {"a": 1}
    assert sorted(p.name for p in keys_home.iterdir()) == ["identity-key.pem"]


def test_a_new_home_gets_a_different_2048_bit_key(keys: IdentityKeys, tmp_path: Path) -> None:
    other = IdentityKeys.load_or_create(tmp_path / "nested" / "home")
    assert other.key_id != keys.key_id
    assert len(other.key_id) == 16 and int(other.key_id, 16) >= 0
    n = int.from_bytes(_b64decode(other.jwks()["keys"][0]["n"]), "big")
    assert n.bit_length() == 2048


def test_a_damaged_key_file_is_reported(tmp_path: Path) -> None:
    (tmp_path / "identity-key.pem").write_text("not a key")
    with pytest.raises(EnvironmentProblem, match="identity key"):
        IdentityKeys.load_or_create(tmp_path)


def test_the_jwks_describes_the_public_key(keys: IdentityKeys) -> None:
    (jwk,) = keys.jwks()["keys"]
    assert {k: jwk[k] for k in ("kty", "kid", "alg", "use", "e")} == {
        "kty": "RSA", "kid": keys.key_id, "alg": "RS256", "use": "sig", "e": "AQAB"}
    assert "=" not in jwk["n"] and "+" not in jwk["n"] and "/" not in jwk["n"]


def test_a_signature_verifies_with_the_jwks_public_numbers(keys: IdentityKeys) -> None:
    token = keys.sign({"hello": "world"})
    header_b64, claims_b64, signature_b64 = token.split(".")
    assert not any("=" in part for part in (header_b64, claims_b64, signature_b64))
    (jwk,) = keys.jwks()["keys"]
    public = rsa.RSAPublicNumbers(int.from_bytes(_b64decode(jwk["e"]), "big"),
                                  int.from_bytes(_b64decode(jwk["n"]), "big")).public_key()
    message = f"{header_b64}.{claims_b64}".encode()
    public.verify(_b64decode(signature_b64), message, padding.PKCS1v15(), hashes.SHA256())
    with pytest.raises(InvalidSignature):
        public.verify(_b64decode(signature_b64), message + b"x", padding.PKCS1v15(), hashes.SHA256())
    assert _part(token, 0) == {"alg": "RS256", "typ": "JWT", "kid": keys.key_id}
    assert _part(token, 1) == {"hello": "world"}


def test_verify_refuses_tampered_and_foreign_tokens(keys: IdentityKeys, tmp_path: Path) -> None:
    token = keys.sign({"sub": "a"})
    header, _, signature = token.split(".")
    forged = base64.urlsafe_b64encode(b'{"sub":"b"}').rstrip(b"=").decode()
    with pytest.raises(ValueError, match="signature"):
        keys.verify(f"{header}.{forged}.{signature}")
    with pytest.raises(ValueError, match="signature"):
        keys.verify(IdentityKeys.load_or_create(tmp_path).sign({"sub": "a"}))
    for malformed in ("", "a.b", "a.b.c.d", "!!.??.**", f"{header}.e30.{signature}x"):
        with pytest.raises(ValueError):
            keys.verify(malformed)


def test_verify_refuses_another_algorithm(keys: IdentityKeys) -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    _, claims, signature = keys.sign({"a": 1}).split(".")
    with pytest.raises(ValueError, match="RS256"):
        keys.verify(f"{header}.{claims}.{signature}")


# -- the claims ----------------------------------------------------------------------------------------


def test_the_claims_of_a_root_applet_job(keys: IdentityKeys) -> None:
    claims = keys.verify(_token(keys, _root_job(), {"audience": "my-aud.v1_x"}))
    jti = claims.pop("jti")
    assert isinstance(jti, str) and len(jti) >= 16
    assert claims == {
        "iss": ISSUER, "aud": "my-aud.v1_x", "iat": 1_800_000_000, "nbf": 1_800_000_000,
        "exp": 1_800_000_300, "sub": "launched_by;user-alice;job_worker_ipv4;172.17.0.5",
        "job_id": "job-root", "root_execution_id": "job-root", "root_executable_id": "applet-A",
        "root_executable_name": "align", "root_executable_version": None, "executable_id": "applet-A",
        "app_name": None, "app_version": None, "project_id": "project-P", "bill_to": "user-local",
        "launched_by": "user-alice", "region": "aws:us-east-1", "job_worker_ipv4": "172.17.0.5", "job_try": 0,
    }


def test_a_subjob_takes_the_root_fields_from_its_root(keys: IdentityKeys) -> None:
    root = _root_job(applet="applet-ROOT", executableName="pipeline")
    job = _root_job(id="job-sub", applet="applet-SUB", executableName="step", root=root, **{"try": 2})
    claims = keys.verify(_token(keys, job, {"audience": "a"}))
    assert claims["job_id"] == "job-sub" and claims["root_execution_id"] == "job-root"
    assert claims["root_executable_id"] == "applet-ROOT" and claims["root_executable_name"] == "pipeline"
    assert claims["executable_id"] == "applet-SUB" and claims["job_try"] == 2
    assert "root" not in claims


def test_an_app_job_has_app_name_and_version(keys: IdentityKeys) -> None:
    job = _root_job(app="app-B", appVersion="1.2.3", executableName="bwa")
    del job["applet"]
    claims = keys.verify(_token(keys, job, {"audience": "a"}))
    assert (claims["executable_id"], claims["app_name"], claims["app_version"]) == ("app-B", "bwa", "1.2.3")
    assert (claims["root_executable_id"], claims["root_executable_version"]) == ("app-B", "1.2.3")


def test_the_subject_joins_the_chosen_claims_in_order(keys: IdentityKeys) -> None:
    body = {"audience": "a", "subject_claims": ["job_try", "project_id", "job_id", "app_name"]}
    claims = keys.verify(_token(keys, _root_job(), body))
    assert claims["sub"] == "job_try;0;project_id;project-P;job_id;job-root;app_name;"


def test_every_claim_may_be_a_subject_claim(keys: IdentityKeys) -> None:
    names = ["job_id", "root_execution_id", "root_executable_id", "root_executable_name",
             "root_executable_version", "executable_id", "app_name", "app_version", "project_id", "bill_to",
             "launched_by", "region", "job_worker_ipv4", "job_try"]
    claims = keys.verify(_token(keys, _root_job(), {"audience": "a", "subject_claims": names}))
    assert claims["sub"].split(";")[0::2] == names
    assert claims["sub"].split(";")[1::2][11] == "aws:us-east-1"


def test_the_time_defaults_to_now_and_each_token_is_unique(keys: IdentityKeys) -> None:
    first = keys.verify(identity_token(keys, _root_job(), {"audience": "a"}, issuer=ISSUER, worker_ip="1.2.3.4"))
    second = keys.verify(identity_token(keys, _root_job(), {"audience": "a"}, issuer=ISSUER, worker_ip="1.2.3.4"))
    assert first["jti"] != second["jti"]
    assert first["iat"] > 1_700_000_000 and first["exp"] == first["iat"] + 300


# -- the errors ----------------------------------------------------------------------------------------

AUDIENCE_ERROR = ("audience input expected to be a non empty string between 1 and 255 characters containing "
                  "only alphanumeric or '.', '-', '_' characters")
SUBJECT_ERROR = "Expected subject_claims to be a nonempty array of strings"


def _error(keys: IdentityKeys, body: dict[str, Any]) -> str:
    with pytest.raises(InvalidInput) as info:
        _token(keys, _root_job(), body)
    return info.value.message


@pytest.mark.parametrize("body", [{}, {"audience": None}, {"subject_claims": ["job_id"]}])
def test_a_missing_audience_is_refused(keys: IdentityKeys, body: dict[str, Any]) -> None:
    assert _error(keys, body) == "job-xxxx/getIdentityToken is missing parameter audience"


@pytest.mark.parametrize("audience", ["", "a" * 256, "has space", "slash/", "é", 5, ["a"], "a\n"])
def test_a_bad_audience_is_refused(keys: IdentityKeys, audience: object) -> None:
    assert _error(keys, {"audience": audience}) == AUDIENCE_ERROR


def test_an_audience_of_255_characters_is_accepted(keys: IdentityKeys) -> None:
    assert keys.verify(_token(keys, _root_job(), {"audience": "a" * 255}))["aud"] == "a" * 255


@pytest.mark.parametrize("chosen", [[], None, "job_id", ["job_id", 3], {"job_id": True}])
def test_subject_claims_must_be_a_nonempty_array_of_strings(keys: IdentityKeys, chosen: object) -> None:
    assert _error(keys, {"audience": "a", "subject_claims": chosen}) == SUBJECT_ERROR


@pytest.mark.parametrize("chosen", [["job_id", "iss"], ["JOB_ID"], ["sub"], ["root"]])
def test_unknown_subject_claims_are_refused(keys: IdentityKeys, chosen: list[str]) -> None:
    assert _error(keys, {"audience": "a", "subject_claims": chosen}) == (
        "The subject_claims array contains at least one invalid claim")


def test_a_repeated_subject_claim_is_refused(keys: IdentityKeys) -> None:
    body = {"audience": "a", "subject_claims": ["job_id", "region", "region"]}
    assert _error(keys, body) == "Claim 'region' is expected to only occur at most once in subject_claims"
