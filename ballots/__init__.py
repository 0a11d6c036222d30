"""The domain of Phiếu Kín: one module per concept, model and services together.

Rounds and their lifecycle, participating units, subjects, the school lottery, tokens and
slips, the cast path and the ballot box (rewritten in random order at the close), the tally
and reports behind threshold k, leaders' accounts and setup codes, the hash-chained audit
log, the minutes and the consistency check. Services take a SQLAlchemy ``Session`` and
return plain results or raise the errors of ``ballots.errors``; they ``flush()`` when they
need ids and never ``commit()``: the caller (one web request, one CLI command) owns the
transaction. Nothing here speaks HTTP (tests/test_layers.py checks it).
"""
