"""Reading uploaded files with a size limit."""

from __future__ import annotations

from fastapi import UploadFile

from ballots.errors import InvalidInput

MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # a district's units file is a few kilobytes


def read_upload(file: UploadFile) -> bytes:
    """The file's bytes, refusing anything larger than the limit."""
    data = file.file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise InvalidInput(
            "The file is larger than {n} MiB.", params={"n": MAX_UPLOAD_BYTES // 1024 // 1024}
        )
    return data
