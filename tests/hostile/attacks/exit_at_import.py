
# ATTACK: exit with status 0 while being imported.
import os as _os

_os._exit(0)
