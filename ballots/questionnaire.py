"""The questionnaire (phiếu hỏi) of a round: criteria on a rating scale plus free text."""

from __future__ import annotations

import json
from importlib import resources
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ballots.errors import InvalidInput
from ballots.vocabulary import Role

Key = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=500)]

# A free-text answer is capped at 2,000 characters on the voting path; a questionnaire may
# ask for less but never more.
MAX_FREE_TEXT_CHARS = 2000
# All the texts about one head on one ballot together, counted as a browser counts a
# textarea's length (UTF-16 code units). A paper ballot has a few lines a question; this is
# about 300 words a head. It bounds every sealed box of a round (ballot_box.box_size): at
# most 3 UTF-8 bytes a unit, against 4 a character without it, and 3 answers to budget for
# instead of 3 full ones, so a ward's box is about 11 kB rather than 50 kB.
HEAD_TEXT_CHARS = 1500


def text_units(text: str) -> int:
    """The length of ``text`` as a browser counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Label(_Strict):
    """A text in Vietnamese (shown by default) and English."""

    vi: Text
    en: Text


class ScaleOption(_Strict):
    """One step of the rating scale, e.g. Tốt (4)."""

    value: Annotated[int, Field(ge=1, le=10)]
    vi: Text
    en: Text


class Scale(_Strict):
    """The rating scale and the "not enough information" choice that is not counted."""

    options: Annotated[list[ScaleOption], Field(min_length=2, max_length=10)]
    no_opinion: Label

    @model_validator(mode="after")
    def _distinct_values(self) -> Scale:
        values = [o.value for o in self.options]
        if len(set(values)) != len(values):
            raise ValueError("scale values must be distinct")
        return self


class Criterion(_Strict):
    """A criterion rated on the scale."""

    key: Key
    vi: Text
    en: Text


class FreeTextQuestion(_Strict):
    """An open question answered in free text."""

    key: Key
    vi: Text
    en: Text
    max_chars: Annotated[int, Field(ge=1, le=MAX_FREE_TEXT_CHARS)]


class Questionnaire(_Strict):
    """A complete questionnaire; validated whenever it is loaded or replaced."""

    version: Annotated[int, Field(ge=1)]
    scale: Scale
    criteria: Annotated[list[Criterion], Field(min_length=1, max_length=50)]
    free_text: Annotated[list[FreeTextQuestion], Field(max_length=10)]
    roles: dict[Role, Label]

    @model_validator(mode="after")
    def _consistent(self) -> Questionnaire:
        keys = [c.key for c in self.criteria] + [q.key for q in self.free_text]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise ValueError(f"duplicate keys: {', '.join(duplicates)}")
        missing = [r.value for r in Role if r not in self.roles]
        if missing:
            raise ValueError(f"labels missing for roles: {', '.join(missing)}")
        return self


def parse_questionnaire(data: Any) -> Questionnaire:
    """Validate ``data`` (decoded JSON) as a questionnaire or raise ``InvalidInput``."""
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
            for err in exc.errors(include_url=False, include_input=False)
        ]
        raise InvalidInput("The questionnaire is not valid.", errors=errors) from None


def default_questionnaire() -> Questionnaire:
    """The district's default questionnaire, shipped with the package."""
    text = resources.files("ballots").joinpath("data/questionnaire_default.json").read_text("utf-8")
    return parse_questionnaire(json.loads(text))
