"""Tokens: only the configured algorithm, signature, issuer, audience and
lifetime are accepted; everything else gets 401."""
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from conftest import RUN, Api, login


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def forge(header, payload, sig=b"x"):
    return ".".join([b64(json.dumps(header).encode()),
                     b64(json.dumps(payload).encode()), b64(sig)])


def decode_part(part):
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


@pytest.fixture(scope="module")
def viewer_token(make_user):
    user, pw, _ = make_user("viewer")
    return login(user["username"], pw)["access_token"]


@pytest.fixture(scope="module")
def private_key():
    return (RUN / "secrets" / "jwt-private.pem").read_text()


@pytest.fixture(scope="module")
def public_key():
    return (RUN / "secrets" / "jwt-public.pem").read_text()


def claims_of(token):
    return decode_part(token.split(".")[1])


def assert_401(token):
    r = Api(token).get("/api/auth/profile")
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "unauthorized"
    return r.json()["error"]["message"]


def test_valid_token_works(viewer_token):
    assert Api(viewer_token).get("/api/auth/profile").status_code == 200


def test_alg_none_is_refused(viewer_token):
    claims = claims_of(viewer_token)
    tok = forge({"alg": "none", "typ": "JWT"}, claims, b"")
    assert "algorithm" in assert_401(tok)


def test_hs256_keyed_with_public_key_is_refused(viewer_token, public_key):
    claims = claims_of(viewer_token)
    claims["role"] = "admin"
    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(public_key.encode(), f"{head}.{body}".encode(),
                   hashlib.sha256).digest()
    assert "algorithm" in assert_401(f"{head}.{body}.{b64(sig)}")


def test_rs256_header_is_refused(viewer_token):
    head, body, sig = viewer_token.split(".")
    h = decode_part(head)
    h["alg"] = "RS256"
    assert_401(".".join([b64(json.dumps(h).encode()), body, sig]))


def test_changed_payload_breaks_signature(viewer_token):
    head, body, sig = viewer_token.split(".")
    claims = decode_part(body)
    claims["role"] = "admin"
    tok = ".".join([head, b64(json.dumps(claims).encode()), sig])
    assert "signature" in assert_401(tok)


def test_flipped_signature(viewer_token):
    head, body, sig = viewer_token.split(".")
    bad = sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB")
    assert_401(".".join([head, body, bad]))


def _signed(private_key, **changes):
    now = int(time.time())
    claims = {"iss": "openserverhub", "aud": "openserverhub", "sub": "user:1",
              "uid": 1, "name": "admin", "role": "admin", "jti": "forged-1",
              "iat": now, "nbf": now, "exp": now + 600}
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, private_key, algorithm="ES256")


def test_real_key_control_case(private_key):
    # Signed with the real key and right claims: accepted. This is what
    # makes the cases below meaningful.
    assert Api(_signed(private_key)).get("/api/auth/profile").status_code == 200


def test_wrong_issuer(private_key):
    assert "issuer" in assert_401(_signed(private_key, iss="someone-else"))


def test_wrong_audience(private_key):
    assert "audience" in assert_401(_signed(private_key, aud="other-app"))


def test_expired(private_key):
    now = int(time.time())
    tok = _signed(private_key, iat=now - 3600, nbf=now - 3600, exp=now - 60)
    assert "expired" in assert_401(tok)


def test_issued_in_the_future(private_key):
    now = int(time.time())
    tok = _signed(private_key, iat=now + 3600, nbf=now + 3600,
                  exp=now + 7200)
    assert "not valid yet" in assert_401(tok)


def test_missing_role(private_key):
    assert_401(_signed(private_key, role=None))


def test_unknown_role(private_key):
    assert_401(_signed(private_key, role="root"))


def test_garbage_and_wrong_scheme():
    for tok in ("", "abc", "a.b.c", "x" * 5000):
        assert Api(tok or None).get("/api/auth/profile").status_code == 401
    r = Api().get("/api/auth/profile",
                  headers={"Authorization": "Basic YWRtaW46YWRtaW4="})
    assert r.status_code == 401
