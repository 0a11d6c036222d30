"""The kit: pure functions, no database, no web and no I/O (tests/test_layers.py checks it).

One-time tokens with their check character (``tokens``), QR slips as vector drawings
(``qr``), receipts sealed under the token (``receipts``), the verifiable stratified lottery
(``lottery``, docs/LOTTERY.md) and the audit hash chain (``audit_chain``, docs/AUDIT_LOG.md).
Each is tested against published vectors.
"""
