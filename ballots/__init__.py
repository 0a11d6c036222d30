"""The domain of Phiếu Kín: rounds, units, subjects, accounts and, later, ballots.

Services take a SQLAlchemy ``Session`` and return plain results or raise the errors of
``ballots.errors``. They ``flush()`` when they need ids and never ``commit()``: the caller
(one web request, one CLI command) owns the transaction.
"""
