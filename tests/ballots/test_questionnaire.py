"""The questionnaire schema."""

from __future__ import annotations

from pathlib import Path

import pytest

from ballots.errors import InvalidInput
from ballots.questionnaire import default_questionnaire, parse_questionnaire


class TestQuestionnaireSchema:
    """Validation of questionnaires."""

    def test_shipped_default_is_the_districts_questionnaire(self, sample_data: Path) -> None:
        """The package's copy has the district's seven criteria and a label for every role."""
        shipped = default_questionnaire()
        assert len(shipped.criteria) == 7
        assert [f.key for f in shipped.free_text] == ["strengths", "shortcomings", "suggestions"]
        roles_in_sample = {
            row.split(",")[1]
            for row in (sample_data / "long_bien_subjects.csv").read_text("utf-8").splitlines()[1:]
            if row
        }
        assert roles_in_sample <= {role.value for role in shipped.roles}

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
