import hashlib
import os
import random
import sqlite3
import string

import pytest

import auth

PW = "correct horse battery staple"


def stored_hash(db_path, username):
    with sqlite3.connect(db_path) as db:
        return db.execute(
            "SELECT password_hash FROM users WHERE username = ?", (username,)
        ).fetchone()[0]


# --------------------------------------------------------------------- password storage


def test_stored_hash_is_not_a_plain_digest(svc, db_path):
    svc.register("hank", PW)
    stored = stored_hash(db_path, "hank")
    assert isinstance(stored, str), "users.password_hash must hold a string"
    lowered = stored.lower()
    assert PW not in stored, "the stored hash contains the password itself"
    for algo in ("md5", "sha1", "sha256", "sha512"):
        for candidate in (PW, "hank" + PW, PW + "hank"):
            assert hashlib.new(algo, candidate.encode()).hexdigest() not in lowered, (
                f"the stored hash is a plain {algo} digest of the password: fast to crack"
            )


def test_same_password_gives_different_hashes_for_two_users(svc, db_path):
    svc.register("ivan", PW)
    svc.register("judy", PW)
    assert stored_hash(db_path, "ivan") != stored_hash(db_path, "judy"), (
        "two users with the same password have the same stored hash: the salt is not per user"
    )


def test_hash_password_is_salted_per_call():
    a = auth.hash_password(PW, fast=True)
    b = auth.hash_password(PW, fast=True)
    assert a != b, "hashing one password twice gave the same string: no fresh salt per call"
    assert auth.verify_password(PW, a) and auth.verify_password(PW, b), (
        "verify_password() rejects the password a hash was made from"
    )


def test_stored_hash_verifies_on_its_own(svc, db_path):
    svc.register("kate", PW)
    stored = stored_hash(db_path, "kate")
    assert auth.verify_password(PW, stored) is True, "the stored hash does not verify its password"
    assert auth.verify_password(PW.upper(), stored) is False, "a wrong password verifies"
    assert auth.verify_password("", stored) is False, "an empty password verifies"


def test_passwords_go_through_a_hashlib_kdf(svc, kdf_calls):
    before = len(kdf_calls)
    svc.register("liam", PW)
    assert len(kdf_calls) > before, "register must derive the key with hashlib.scrypt or pbkdf2_hmac"
    before = len(kdf_calls)
    svc.login("liam", PW)
    assert len(kdf_calls) > before, "login must verify with hashlib.scrypt or pbkdf2_hmac"


def _cost_ok(call):
    name, args, kwargs = call
    if name == "scrypt":
        n, r = kwargs.get("n"), kwargs.get("r")
        return n is not None and r is not None and n >= 2**14 and r >= 8
    iterations = kwargs.get("iterations", args[3] if len(args) > 3 else None)
    return iterations is not None and iterations >= 600_000


def test_default_cost_is_production_grade(make_svc, kdf_calls):
    svc = make_svc(fast_hashing=False)
    before = len(kdf_calls)
    svc.register("mia", PW)
    calls = kdf_calls[before:]
    assert calls, "register must use hashlib.scrypt or hashlib.pbkdf2_hmac"
    assert all(_cost_ok(c) for c in calls), [(c[0], c[2]) for c in calls]


def test_parameters_are_stored_with_the_hash(make_svc):
    fast = make_svc(fast_hashing=True)
    fast.register("nora", PW)
    slow = make_svc(fast_hashing=False)
    assert slow.current_user(slow.login("nora", PW)) == "nora"
    slow.register("omar", PW)
    assert fast.current_user(fast.login("omar", PW)) == "omar"


def test_login_compares_keys_in_constant_time(svc, compare_calls):
    svc.register("pete", PW)
    before = len(compare_calls)
    svc.login("pete", PW)
    assert len(compare_calls) > before, "compare derived keys with hmac.compare_digest"
    before = len(compare_calls)
    with pytest.raises(auth.InvalidCredentials):
        svc.login("pete", PW + "x")
    assert len(compare_calls) > before, "compare derived keys with hmac.compare_digest"


# --------------------------------------------------------------------- session tokens


def _bits_ok(token):
    if all(c in string.hexdigits for c in token):
        return len(token) >= 32
    return len(token) >= 22


def test_tokens_are_long_unique_and_unrelated(svc):
    svc.register("quinn", PW)
    tokens = [svc.login("quinn", PW) for _ in range(40)]
    assert len(set(tokens)) == len(tokens), "40 logins gave the same token twice"
    for t in tokens:
        assert "quinn" not in t.lower(), "a session token contains the username: it can be guessed"
    # A fixed prefix such as "sess_" is fine; what follows it must be random.
    fixed = len(os.path.commonprefix(tokens))
    for t in tokens:
        assert _bits_ok(t[fixed:]), f"token {t!r} carries fewer than 128 bits"
    prefixes = {t[fixed : fixed + 8] for t in tokens}
    assert len(prefixes) == len(tokens), "tokens share long prefixes: not random"


def test_tokens_do_not_come_from_the_random_module(svc):
    svc.register("rita", PW)
    random.seed(1234)
    a = svc.login("rita", PW)
    random.seed(1234)
    b = svc.login("rita", PW)
    assert a != b


def test_token_expires_after_ttl(svc, clock):
    svc.register("sam", PW)
    token = svc.login("sam", PW)
    clock.advance(3601)
    assert svc.current_user(token) is None, "a session was still valid after its session_ttl"


def test_expired_token_stays_expired_for_a_new_instance(make_svc, clock):
    svc = make_svc()
    svc.register("sam", PW)
    token = svc.login("sam", PW)
    clock.advance(7200)
    assert make_svc().current_user(token) is None, (
        "an expired session is valid again for another AuthService on the same database"
    )
    assert svc.current_user(token) is None, "a session was still valid after its session_ttl"


# --------------------------------------------------------------------- lockout


def _fail(svc, username, times):
    for i in range(times):
        with pytest.raises(auth.AuthError):
            svc.login(username, f"wrong-{i}")


def test_lockout_after_five_failures_even_with_right_password(svc):
    svc.register("tina", PW)
    for i in range(4):
        with pytest.raises(auth.InvalidCredentials):
            svc.login("tina", f"wrong-{i}")
    _fail(svc, "tina", 1)
    with pytest.raises(auth.AccountLocked):
        svc.login("tina", PW)


def test_lockout_lifts_after_lockout_seconds(svc, clock):
    svc.register("uma", PW)
    _fail(svc, "uma", 5)
    with pytest.raises(auth.AccountLocked):
        svc.login("uma", PW)
    clock.advance(901)
    assert svc.current_user(svc.login("uma", PW)) == "uma"


def test_lockout_is_per_username(svc):
    svc.register("vera", PW)
    svc.register("walt", PW)
    _fail(svc, "vera", 5)
    with pytest.raises(auth.AccountLocked):
        svc.login("vera", PW)
    assert svc.current_user(svc.login("walt", PW)) == "walt"


def test_lockout_configurable_threshold(make_svc):
    svc = make_svc(max_failed_attempts=3)
    svc.register("xena", PW)
    _fail(svc, "xena", 3)
    with pytest.raises(auth.AccountLocked):
        svc.login("xena", PW)


def test_unknown_usernames_lock_too(svc):
    _fail(svc, "ghost", 5)
    with pytest.raises(auth.AccountLocked):
        svc.login("ghost", "anything")


# --------------------------------------------------------------------- enumeration


def test_unknown_user_and_wrong_password_look_identical(svc):
    svc.register("yuri", PW)
    with pytest.raises(auth.AuthError) as wrong:
        svc.login("yuri", "not the password")
    with pytest.raises(auth.AuthError) as unknown:
        svc.login("nobody-here", "not the password")
    assert type(wrong.value) is type(unknown.value) is auth.InvalidCredentials, (
        "an unknown username and a wrong password must both raise InvalidCredentials"
    )
    assert str(wrong.value) == str(unknown.value) and wrong.value.args == unknown.value.args, (
        "the errors for an unknown username and a wrong password differ: they tell an "
        "attacker which usernames exist"
    )


def test_unknown_user_costs_the_same_kdf_work(svc, kdf_calls):
    svc.register("zoe", PW)
    # Warm up: a lazily built dummy hash may cost one extra call the first time.
    for name in ("zoe", "warmup-ghost"):
        with pytest.raises(auth.InvalidCredentials):
            svc.login(name, "nope")
    before = len(kdf_calls)
    with pytest.raises(auth.InvalidCredentials):
        svc.login("zoe", "nope-again")
    wrong_pw = len(kdf_calls) - before
    before = len(kdf_calls)
    with pytest.raises(auth.InvalidCredentials):
        svc.login("another-ghost", "nope-again")
    unknown = len(kdf_calls) - before
    assert wrong_pw >= 1, "a wrong password was rejected without running the KDF"
    assert unknown == wrong_pw, f"unknown user: {unknown} KDF calls, wrong password: {wrong_pw}"
