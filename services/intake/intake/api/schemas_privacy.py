"""Bodies of the persons and disclosure endpoints (docs/personal-data.md)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class PersonOut(BaseModel):
    """A person of the case as everyone who may see the case sees them: a pseudonym, never an identity."""

    number: int = Field(description="Position in the case (1, 2, ...): the pseudonym's number")
    person_id: str = Field(description="The person's id in this case (what `casereg person erase` takes)")
    label: str = Field(description='The pseudonym, e.g. "Người tố cáo #1"; "(đã xoá)" appended once erased')
    anonymous: bool
    representative: bool
    erased: bool = Field(description="The person's data key was destroyed: the identity is gone for good")


class PersonsOut(BaseModel):
    case_id: str
    persons: list[PersonOut]


class DisclosureBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    purpose: str = Field(
        min_length=1,
        max_length=500,
        description="Why the identities are needed (recorded in the case's access records); no personal data",
    )


class DisclosedPerson(PersonOut):
    full_name: str | None = Field(description="null when anonymous or erased")
    id_number: str | None
    address: str | None
    phone: str | None


class OriginalTextsOut(BaseModel):
    erased: bool = Field(description="The case's data key was destroyed: the texts are gone for good")
    summary: str | None
    content: str | None
    subject_description: str | None
    attachments: list[str]


class DisclosureOut(BaseModel):
    case_id: str
    access_seq: int = Field(description="Stream sequence of the access record written for this disclosure")
    persons: list[DisclosedPerson]
    original: OriginalTextsOut
