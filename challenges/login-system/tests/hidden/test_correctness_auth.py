import sqlite3

import pytest

import auth

PW = "correct horse battery staple"


def test_login_returns_token_for_registered_user(svc):
    svc.register("carol", PW)
    token = svc.login("carol", PW)
    assert isinstance(token, str) and token
    assert svc.current_user(token) == "carol"


def test_duplicate_registration_raises_username_taken(svc):
    svc.register("carol", PW)
    with pytest.raises(auth.UsernameTaken):
        svc.register("carol", "another password")
    assert issubclass(auth.UsernameTaken, auth.AuthError)


def test_bad_password_raises_invalid_credentials(svc):
    svc.register("carol", PW)
    with pytest.raises(auth.InvalidCredentials):
        svc.login("carol", PW + "!")
    assert issubclass(auth.InvalidCredentials, auth.AuthError)
    assert issubclass(auth.AccountLocked, auth.AuthError)


def test_logout_invalidates_only_that_token(svc):
    svc.register("carol", PW)
    t1 = svc.login("carol", PW)
    t2 = svc.login("carol", PW)
    assert t1 != t2
    svc.logout(t1)
    assert svc.current_user(t1) is None
    assert svc.current_user(t2) == "carol"


def test_logout_of_unknown_token_is_harmless(svc):
    svc.logout("no-such-token")
    assert svc.current_user("no-such-token") is None
    assert svc.current_user("") is None


def test_state_is_shared_by_instances_on_the_same_file(make_svc):
    a = make_svc()
    a.register("dave", PW)
    token = a.login("dave", PW)
    b = make_svc()
    assert b.current_user(token) == "dave"
    token_b = b.login("dave", PW)
    assert a.current_user(token_b) == "dave"
    b.logout(token)
    assert a.current_user(token) is None


def test_session_still_valid_just_before_ttl(svc, clock):
    svc.register("erin", PW)
    token = svc.login("erin", PW)
    clock.advance(3599)
    assert svc.current_user(token) == "erin"


def test_custom_session_ttl_is_honoured(make_svc, clock):
    svc = make_svc(session_ttl=60)
    svc.register("erin", PW)
    token = svc.login("erin", PW)
    clock.advance(59)
    assert svc.current_user(token) == "erin", "with session_ttl=60, a session ended within 59 s"
    clock.advance(2)
    assert svc.current_user(token) is None, (
        "with session_ttl=60, a session was still valid 61 s after login"
    )


def test_successful_login_resets_failure_count(svc):
    svc.register("frank", PW)
    for _round in range(3):
        for _ in range(4):
            with pytest.raises(auth.InvalidCredentials):
                svc.login("frank", "guess")
        assert svc.current_user(svc.login("frank", PW)) == "frank", (
            "a successful login's token does not give back the user"
        )


def test_users_table_keeps_its_columns(svc, db_path):
    svc.register("gina", PW)
    with sqlite3.connect(db_path) as db:
        row = db.execute(
            "SELECT username, password_hash FROM users WHERE username = 'gina'"
        ).fetchone()
    assert row is not None and row[1]


def test_unicode_passwords_work(svc):
    svc.register("héloïse", "pässwörd-密码-🔑")
    token = svc.login("héloïse", "pässwörd-密码-🔑")
    assert svc.current_user(token) == "héloïse"
    with pytest.raises(auth.InvalidCredentials):
        svc.login("héloïse", "passwort-密码-🔑")
