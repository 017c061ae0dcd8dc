
# ATTACK: a thread of the candidate's exits the process (status 0) during the run.
import os as _os
import threading as _threading

_third_call = _threading.Event()
_calls = []


def _exit_later():
    _third_call.wait()
    _os._exit(0)


_threading.Thread(target=_exit_later, daemon=True).start()
_add = add


def add(a, b):
    _calls.append(1)
    if len(_calls) >= 3:
        _third_call.set()
    return _add(a, b)
