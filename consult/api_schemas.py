"""Request and response bodies of the REST API (consult/api.py)."""

from datetime import date, datetime, time
from typing import Literal

from django.conf import settings
from ninja import Field, Schema

MAX_ID = 2_147_483_647  # ids beyond this are no rows of ours (and would overflow the database's integer)
LANGUAGES = tuple(code for code, _name in settings.LANGUAGES)
Language = Literal[LANGUAGES]  # type: ignore[valid-type]


class Error(Schema):
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrors(Schema):
    detail: list[FieldError]


class Department(Schema):
    id: int
    name: str
    colour: str


class Practitioner(Schema):
    id: int
    name: str
    job_title: str
    role: str
    department_ids: list[int]


class ClientOut(Schema):
    id: int
    is_external: bool
    initials: str
    first_name: str
    last_name: str
    date_of_birth: date | None
    email: str
    phone: str
    client_number: str
    language: str
    department_id: int | None


class ClientPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[ClientOut]


class ClientIn(Schema):
    is_external: bool = False
    initials: str = Field(..., max_length=20)
    first_name: str = Field("", max_length=80)
    last_name: str = Field(..., max_length=120)
    date_of_birth: date | None = Field(None, description="Required for clients, optional for external participants.")
    email: str = Field(..., max_length=254)
    phone: str = Field("", max_length=40)
    client_number: str = Field("", max_length=60)
    language: Language | None = Field(None, description="Empty: the organisation's default language.")
    department_id: int | None = Field(None, ge=1, le=MAX_ID)


class ClientPatch(Schema):
    initials: str | None = Field(None, max_length=20)
    first_name: str | None = Field(None, max_length=80)
    last_name: str | None = Field(None, max_length=120)
    date_of_birth: date | None = None
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    client_number: str | None = Field(None, max_length=60)
    language: Language | None = None
    department_id: int | None = Field(None, ge=1, le=MAX_ID)


class AppointmentOut(Schema):
    id: int
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    status: str
    kind: str
    practitioner_id: int | None
    department_id: int | None
    client_id: int | None
    client_number: str
    personal_message: str


class AppointmentPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[AppointmentOut]


class AppointmentIn(Schema):
    client_id: int = Field(..., ge=1, le=MAX_ID)
    practitioner_id: int | None = Field(None, ge=1, le=MAX_ID)
    department_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Instead of a practitioner, when departments are strictly segregated.")
    starts_at: datetime = Field(..., description="ISO 8601; without an offset it is the organisation's local time.")
    duration_minutes: int = Field(20, ge=5, le=480)
    client_number: str = Field("", max_length=60)
    personal_message: str = Field("", max_length=5000, description="Added to the email to the client.")


class AppointmentPatch(Schema):
    starts_at: datetime | None = Field(None, description="A new time moves the appointment (new links, emails).")
    duration_minutes: int | None = Field(None, ge=5, le=480)
    client_number: str | None = Field(None, max_length=60)
    personal_message: str | None = Field(None, max_length=5000)


class CancelIn(Schema):
    message: str = Field("", max_length=5000, description="Shown in the cancellation email.")


class AvailabilityOut(Schema):
    id: int
    practitioner_id: int
    kind: str
    date: date
    start_time: time
    end_time: time
    rrule: str
    repeat_until: date | None
    exceptions: list[str]
    consult_minutes: int
    break_minutes: int


class AvailabilityIn(Schema):
    kind: Literal["booking", "walk_in"] = "booking"
    date: date
    start_time: time
    end_time: time
    rrule: str = Field("", max_length=200, description="Empty for once, else an RFC 5545 rule (FREQ=WEEKLY;BYDAY=MO).")
    repeat_until: date | None = None
    consult_minutes: int = Field(20, ge=5, le=240)
    break_minutes: int = Field(0, ge=0, le=120)


class SlotOut(Schema):
    starts_at: datetime
    ends_at: datetime
    practitioner_id: int


class ClientQuery(Schema):
    q: str = Field("", max_length=200, description="Name, date of birth, email or client number.")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class AppointmentQuery(Schema):
    date_from: date | None = Field(None, description="First local date (inclusive).")
    date_to: date | None = Field(None, description="Last local date (inclusive).")
    practitioner_id: int | None = Field(None, ge=1, le=MAX_ID)
    status: Literal["scheduled", "cancelled", "completed"] | None = None
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class SlotQuery(Schema):
    date_from: date = Field(..., description="First local date (inclusive).")
    date_to: date = Field(..., description="Last local date (inclusive); at most 62 days after the first.")
    practitioner_id: int | None = Field(None, ge=1, le=MAX_ID)
    department_id: int | None = Field(None, ge=1, le=MAX_ID)
