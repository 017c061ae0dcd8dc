"""Reports, regrades and the cohort view: what a reviewer does with a folder of sessions.

Headless: nothing here imports Textual (a test proves it). ``document.build`` turns one session
file (plus a stored regrade, when there is one) into the report document that every output
format renders: ``json`` is that document itself (``docs/report-schema.json``); ``html``,
``md``, ``junit``, ``gradescope``, ``exercism`` and ``asciicast`` are views of it. ``grade``
regrades submitted snapshots through the public ``run_check``; ``review`` tabulates a folder;
``similarity`` compares a cohort's submissions.
"""
