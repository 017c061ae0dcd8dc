
# ATTACK: use the SQLite connection a test lends to ATTACH other database files, copy the
# database out with VACUUM INTO, and load an extension; print what worked.
import os as _os


def total(conn):
    here = _os.getcwd()
    attempts = {
        "ATTACHED": f"ATTACH DATABASE '{here}/stolen.db' AS stolen",
        "VACUUMED": f"VACUUM INTO '{here}/copy.db'",
        "LOADED": "SELECT load_extension('libsqlite3_mod_evil')",
    }
    for word, sql in attempts.items():
        try:
            conn.execute(sql)
            print(f"REACHED {word}")
        except Exception:  # noqa: BLE001
            pass
    return conn.execute("SELECT sum(x) FROM t").fetchone()[0]
