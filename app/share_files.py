"""Writing a key ceremony's share files and sheets to a folder (CLI and demo)."""

from __future__ import annotations

import os
from pathlib import Path

from ballots import key_ceremony
from ballots.share_sheets import render_share_sheet


def write_shares(folder: Path, round_title: str, shares: list[key_ceremony.IssuedShare]) -> None:
    """Write each holder's share file and printable sheet into ``folder`` (owner-only)."""
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    for s in shares:
        text_file = folder / s.file_name
        sheet = text_file.with_suffix(".pdf")
        pdf = render_share_sheet(s.share, holder=s.holder, round_title=round_title)
        for path, data in ((text_file, (s.text + "\n").encode()), (sheet, pdf)):
            # O_EXCL: a share file is never overwritten; 0600: only its writer reads it.
            with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as f:
                f.write(data)
