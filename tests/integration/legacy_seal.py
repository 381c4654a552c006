"""Sealing the way releases before the endpoint binding did, for upgrade
tests: XChaCha20-Poly1305 under the stack's current credential key, with
additional data naming the owner only ("server:<id>", "scan:<id>")."""
import base64
import ctypes
import json
import os

from conftest import RUN


def seal(ad, user, password):
    sodium = ctypes.CDLL("libsodium.so.23")
    assert sodium.sodium_init() >= 0
    kid, key = (RUN / "secrets" / "credential-keys").read_text() \
        .splitlines()[0].split(":", 1)
    key = base64.b64decode(key)
    plain = json.dumps({"u": user, "p": password},
                       separators=(",", ":")).encode()
    nonce = os.urandom(24)
    out = ctypes.create_string_buffer(len(plain) + 16)
    outlen = ctypes.c_ulonglong()
    assert sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
        out, ctypes.byref(outlen), plain, ctypes.c_ulonglong(len(plain)),
        ad.encode(), ctypes.c_ulonglong(len(ad)), None, nonce, key) == 0
    return kid + ":" + base64.b64encode(
        nonce + out.raw[:outlen.value]).decode()
