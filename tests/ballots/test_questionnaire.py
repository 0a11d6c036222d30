"""The questionnaire schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ballots.errors import InvalidInput
from ballots.questionnaire import default_questionnaire, parse_questionnaire


class TestQuestionnaireSchema:
    """Validation of questionnaires."""

    def test_shipped_default_equals_the_districts_file(self, shared_data: Path) -> None:
        """The package's copy is the district's default questionnaire."""
        district = json.loads((shared_data / "questionnaire_default.json").read_text("utf-8"))
        assert default_questionnaire() == parse_questionnaire(district)
        assert len(default_questionnaire().criteria) == 7

    def test_unknown_keys_are_refused(self) -> None:
        """A misspelt field is an error, not silently ignored."""
        data = default_questionnaire().model_dump(mode="json")
        data["critera"] = []
        with pytest.raises(InvalidInput):
            parse_questionnaire(data)

    def test_free_text_longer_than_2000_is_refused(self) -> None:
        """A questionnaire cannot ask for more than the voting path accepts."""
        data = default_questionnaire().model_dump(mode="json")
        data["free_text"][0]["max_chars"] = 5000
        with pytest.raises(InvalidInput):
            parse_questionnaire(data)

    def test_every_role_needs_a_label(self) -> None:
        """Pages name each head's role, so every role needs words."""
        data = default_questionnaire().model_dump(mode="json")
        del data["roles"]["school_principal"]
        with pytest.raises(InvalidInput):
            parse_questionnaire(data)
