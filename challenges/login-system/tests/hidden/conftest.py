import pytest

from tui_assess.judge import candidate


class FakeClock:
    def __init__(self, start=1_700_000_000.0):
        self.now = start

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "auth.db"


@pytest.fixture
def make_svc(db_path, clock):
    import auth

    def make(**kw):
        kw.setdefault("fast_hashing", True)
        kw.setdefault("clock", clock)
        return auth.AuthService(db_path, **kw)

    return make


@pytest.fixture
def svc(make_svc):
    return make_svc()


def _patch_everywhere(monkeypatch, modules, name, wrapper_factory):
    """Replace `name` on every module that has it (hashlib, and auth if it imported the name),
    in the candidate's process: `modules` are candidate.module(...) proxies."""
    import auth

    for mod in list(modules) + [auth]:
        original = getattr(mod, name, None)
        if original is not None and callable(original):
            monkeypatch.setattr(mod, name, wrapper_factory(original))


@pytest.fixture
def kdf_calls(monkeypatch):
    """Every call to hashlib.scrypt / hashlib.pbkdf2_hmac, as (name, args, kwargs)."""
    calls = []

    def factory_for(name):
        def factory(original):
            def wrapper(*args, **kwargs):
                calls.append((name, args, kwargs))
                return original(*args, **kwargs)

            return wrapper

        return factory

    hashlib = candidate.module("hashlib")
    _patch_everywhere(monkeypatch, [hashlib], "scrypt", factory_for("scrypt"))
    _patch_everywhere(monkeypatch, [hashlib], "pbkdf2_hmac", factory_for("pbkdf2_hmac"))
    return calls


@pytest.fixture
def compare_calls(monkeypatch):
    """Every call to hmac.compare_digest / secrets.compare_digest."""
    calls = []

    def factory(original):
        def wrapper(a, b):
            calls.append((a, b))
            return original(a, b)

        return wrapper

    modules = [candidate.module("hmac"), candidate.module("secrets")]
    _patch_everywhere(monkeypatch, modules, "compare_digest", factory)
    return calls
