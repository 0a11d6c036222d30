"""Domain errors: one tree. Their HTTP status and message key are the table in ``app/errors.py``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class DomainError(Exception):
    """Base of every error a service raises on purpose; ``message`` is safe to show.

    ``template`` is an English message with ``{name}`` fields filled from ``params``; it is
    the msgid that the web edge translates (``app/errors.py``), so never pass an f-string.
    """

    # Most errors undo the use case's writes. A few must keep them: a failed login still
    # counts the failure, or repeated guessing would never be slowed down.
    keeps_writes = False

    def __init__(
        self, template: str, /, *, params: Mapping[str, object] | None = None, **details: Any
    ) -> None:
        self.template = template
        self.params = dict(params or {})
        self.message = template.format(**self.params) if self.params else template
        super().__init__(self.message)
        self.details = details


class NotFound(DomainError):
    """The thing asked for does not exist (or the caller may not know that it does)."""


class InvalidInput(DomainError):
    """Input that fails validation; ``details`` says where (field, line number)."""


@dataclass(frozen=True)
class Problem:
    """One problem in an uploaded file: its line (the header is line 1) and an English template."""

    line: int
    template: str
    params: Mapping[str, object] = field(default_factory=dict)
    column: str | None = None

    @property
    def message(self) -> str:
        """The English text."""
        return self.template.format(**self.params) if self.params else self.template

    def as_detail(self) -> dict[str, object]:
        """The entry of ``details["errors"]`` in the API's JSON."""
        entry: dict[str, object] = {"line": self.line, "message": self.message}
        if self.column is not None:
            entry["column"] = self.column
        return entry


class InvalidFile(InvalidInput):
    """An uploaded file refused as a whole; ``problems`` name their lines."""

    def __init__(
        self,
        template: str,
        /,
        *,
        problems: list[Problem],
        params: Mapping[str, object] | None = None,
        **details: Any,
    ) -> None:
        super().__init__(
            template, params=params, errors=[p.as_detail() for p in problems], **details
        )
        self.problems = problems


class InvalidState(DomainError):
    """The action is not allowed in the current state (for example of a round)."""


class AlreadyExists(DomainError):
    """A unique thing (a username, a unit code) is taken."""


class AuthenticationFailed(DomainError):
    """Wrong username or password; one message for both so accounts cannot be probed."""

    keeps_writes = True


class TooManyAttempts(DomainError):
    """Repeated failures: try again after ``retry_after`` seconds."""

    def __init__(self, template: str, retry_after: int) -> None:
        super().__init__(template, params={"seconds": retry_after}, retry_after=retry_after)
        self.retry_after = retry_after


class PermissionDenied(DomainError):
    """The caller is known but not allowed to do this."""


class VotingError(DomainError):
    """A refusal on the voting path; the page words each subclass in the voter's language."""


class MistypedCode(VotingError):
    """The code fails its check character: a typo, caught before any lookup."""


class UnknownCode(VotingError):
    """No slip has this code."""


class CodeAlreadyUsed(VotingError):
    """This slip has already been used to vote."""


class VotingNotOpen(VotingError, InvalidState):
    """The round has not opened for voting yet."""


class VotingClosed(VotingError, InvalidState):
    """The round no longer accepts votes."""


class BatchVoided(VotingError):
    """The slip belongs to a batch that was voided (lost slips)."""


class InvalidBallot(VotingError):
    """The answers do not fit the questionnaire; ``field`` names the first problem."""


class TooManyGuesses(VotingError):
    """Too many unknown codes from one device."""

    def __init__(self, template: str, retry_after: int) -> None:
        super().__init__(template, params={"seconds": retry_after}, retry_after=retry_after)
        self.retry_after = retry_after


class SharesRefused(InvalidInput):
    """The key shares presented at a close cannot open the box: too few, or one is bad.

    ``details``: shares_needed (k), valid (share numbers accepted), missing (how many more
    are needed), rejected (which presented share, and why).
    """


class BoxesUnopened(InvalidState):
    """Some sealed boxes did not open: the close stops and changes nothing."""
