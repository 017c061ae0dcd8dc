
# ATTACK: compile every module imported from now on without its asserts (optimize=2), so
# that the tests' assertions would never fail.
import importlib.abc as _abc
import importlib.machinery as _machinery
import sys as _sys


class _NoAsserts(_abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        spec = _machinery.PathFinder.find_spec(name, path)
        if spec is not None and isinstance(spec.loader, _machinery.SourceFileLoader):
            loader = spec.loader
            loader.source_to_code = lambda data, p, _o=loader.source_to_code: compile(
                data, p, "exec", dont_inherit=True, optimize=2
            )
        return spec


_sys.meta_path.insert(0, _NoAsserts())
_sys.flags.__class__  # noqa: B018 - the flags cannot be changed; the hook is the attack
