"""A student's problem comes from HMAC-SHA256(secret, id): checked against RFC 4231's published
test vector and against HMAC written out from its definition (RFC 2104) with hashlib."""

from __future__ import annotations

import hashlib

import pytest

from nn.grading.roster import SECRET_MIN_LENGTH, make_problem, read_secret, seed_for


def test_rfc_4231_test_case_2():
    digest = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    assert seed_for(b"Jefe", "what do ya want for nothing?") == int(digest[:16], 16)


def hmac_by_definition(key: bytes, message: bytes) -> bytes:
    """H((K ⊕ opad) || H((K ⊕ ipad) || m)), K padded to SHA-256's block of 64 bytes."""
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + message).digest()
    return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()


@pytest.mark.parametrize("secret, sid", [(b"s" * 16, "s001"), (b"k" * 100, "ada@example.org"),
                                         ("zoë's secret key!".encode(), "Zoë")])
def test_seed_is_the_first_8_bytes_of_the_hmac(secret, sid):
    expected = int.from_bytes(hmac_by_definition(secret, sid.encode())[:8], "big")
    assert seed_for(secret, sid) == expected


def test_different_ids_and_secrets_give_different_problems():
    secret = b"x" * 20
    network = {str(make_problem("network", seed_for(secret, f"s{i}"))[0]) for i in range(50)}
    assert len(network) == 50
    assert make_problem("network", seed_for(secret, "s1")) == \
        make_problem("network", seed_for(secret, "s1"))
    assert seed_for(secret, "s1") != seed_for(secret + b"!", "s1")


def test_the_secret_is_read_and_checked(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("0123456789abcdef0123\n")
    assert read_secret(path=path) == b"0123456789abcdef0123"
    assert read_secret("0123456789abcdef") == b"0123456789abcdef"
    with pytest.raises(ValueError, match=f"at least {SECRET_MIN_LENGTH}"):
        read_secret("short")
    with pytest.raises(ValueError, match="not both"):
        read_secret("0123456789abcdef", path)
