import pytest

import auth


def test_register_and_login_gives_a_token(svc):
    svc.register("alice", "correct horse battery staple")
    token = svc.login("alice", "correct horse battery staple")
    assert isinstance(token, str) and token
    assert svc.current_user(token) == "alice"


def test_wrong_password_is_rejected(svc):
    svc.register("alice", "correct horse battery staple")
    with pytest.raises(auth.InvalidCredentials):
        svc.login("alice", "Tr0ub4dor&3")


def test_logout_ends_the_session(svc):
    svc.register("alice", "correct horse battery staple")
    token = svc.login("alice", "correct horse battery staple")
    svc.logout(token)
    assert svc.current_user(token) is None


def test_username_cannot_be_registered_twice(svc):
    svc.register("alice", "pw-one-1234")
    with pytest.raises(auth.UsernameTaken):
        svc.register("alice", "pw-two-5678")


def test_hash_roundtrip(svc):
    stored = auth.hash_password("s3cret-pass", fast=True)
    assert auth.verify_password("s3cret-pass", stored)
    assert not auth.verify_password("not-it", stored)


def test_password_guessing_is_stopped(svc):
    """The review's finding: nothing stops an attacker from guessing passwords."""
    svc.register("alice", "correct horse battery staple")
    for guess in ["123456", "password", "qwerty", "letmein", "alice2024"]:
        with pytest.raises((auth.InvalidCredentials, auth.AccountLocked)):
            svc.login("alice", guess)
    try:
        svc.login("alice", "correct horse battery staple")
    except auth.AccountLocked:
        return
    pytest.fail("after 5 wrong guesses in a row, the right password still logged in")
