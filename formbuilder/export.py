"""Questionnaire answers as staff read them: rows of (label, text), plain text, and a PDF (WeasyPrint).

One formatting for the three (the answers page, the text download and the PDF), in the reader's language
and formats (the request's active language and the organisation's time zone): dates as the reader writes
them, countries by name, checkboxes as yes/no, display-only titles as headings (paragraphs, which only
explain to the client, are left out). Callers fetch the response through the policy and audit the read.
"""

import datetime
import decimal
from typing import NamedTuple

from django.template.loader import render_to_string
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django_countries import countries

from orgs.logo import data_uri, logo_data_uri

from .models import ResponseUpload


class Row(NamedTuple):
    """One line of the answers: a heading (a "title" question) or a question with its answer."""

    label: str
    text: str
    kind: str = "answer"  # "answer" | "heading"
    upload: str = ""  # an image answer: the upload's uuid
    answered: bool = True


def _date_text(value):
    try:
        day = datetime.date.fromisoformat(str(value))
    except ValueError:
        return str(value)
    return formats.date_format(day, "DATE_FORMAT")


def _number_text(value):
    try:
        return formats.localize(decimal.Decimal(str(value)))
    except (decimal.InvalidOperation, ValueError):
        return str(value)


def format_answer(question, value):
    """The answer to `question` as text in the reader's formats ("" when there is none)."""
    kind = question["field_type"]
    if kind == "checkbox":
        if value is None or value == "":
            return ""
        return _("Yes") if value else _("No")
    if value in (None, "", []):
        return ""
    if kind == "date":
        return _date_text(value)
    if kind == "number":
        return _number_text(value)
    if kind == "country":
        return str(countries.name(value) or value)
    if kind == "image":
        return str(value.get("name") or _("Picture")) if isinstance(value, dict) else ""
    if isinstance(value, (list, tuple)):
        return ", ".join(str(item) for item in value)
    return str(value)


def answer_rows(response, answers):
    """The response's questions with their answers, in order, as Rows."""
    rows = []
    for question in response.questions:
        kind = question["field_type"]
        if kind == "title":
            rows.append(Row(question["label"], "", kind="heading"))
            continue
        if kind == "paragraph":
            continue
        value = answers.get(question["clean_name"])
        text = format_answer(question, value)
        upload = value.get("upload", "") if kind == "image" and isinstance(value, dict) else ""
        rows.append(Row(question["label"], text or _("Not answered"), upload=upload, answered=bool(text)))
    return rows


def _moment(value):
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def response_facts(response):
    """What the document is about: (label, text) pairs for its head."""
    client = response.client
    facts = [
        (_("Client"), client.display_name),
        (_("Date of birth"), formats.date_format(client.date_of_birth, "DATE_FORMAT") if client.date_of_birth
         else "—"),
        (_("Questionnaire"), response.title),
        (_("Status"), response.get_status_display()),
        (_("Sent"), _moment(response.created_at)),
    ]
    if response.started_at:
        facts.append((_("Started"), _moment(response.started_at)))
    if response.finished_at:
        facts.append((_("Finished"), _moment(response.finished_at)))
    return facts


def has_answers(response):
    return response.answers is not None


def as_text(response, answers):
    """Plain text (the caller encodes it as UTF-8): head, then "question: answer" lines under headings."""
    lines = [response.organization.name, response.title, "=" * len(response.title), ""]
    lines += [f"{label}: {text}" for label, text in response_facts(response)]
    lines.append("")
    if not has_answers(response):
        lines.append(_("Not filled in yet."))
        return "\n".join(lines) + "\n"
    for row in answer_rows(response, answers):
        if row.kind == "heading":
            lines += ([] if lines[-1] == "" else [""]) + [row.label, "-" * len(row.label)]
            continue
        text = row.text.replace("\r\n", "\n").replace("\n", "\n  ")
        lines.append(f"{row.label}: {text}")
    return "\n".join(lines) + "\n"


def image_data_uris(response):
    """The response's pictures (unsealed) as data: URIs by upload uuid, for the PDF."""
    from .services import upload_open

    uris = {}
    for upload in ResponseUpload.objects.with_scopes_disabled().filter(response=response):
        try:
            uris[str(upload.uuid)] = data_uri(upload.content_type, upload_open(upload))
        except (OSError, ValueError):
            continue
    return uris


def pdf_html(response, answers):
    images = image_data_uris(response) if has_answers(response) else {}
    sections = [("", [])]
    for row in answer_rows(response, answers) if has_answers(response) else []:
        if row.kind == "heading":
            sections.append((row.label, []))
        else:
            sections[-1][1].append((row, images.get(row.upload, "")))
    return render_to_string("formbuilder/pdf/answers.html", {
        "organization": response.organization,
        "logo": logo_data_uri(response.organization),
        "response": response,
        "facts": response_facts(response),
        "sections": [(heading, rows) for heading, rows in sections if heading or rows],
        "has_answers": has_answers(response),
        "generated": _moment(timezone.now()),
    })


def pdf_document(response, answers):
    """The rendered WeasyPrint document (its pages can be inspected before writing)."""
    from weasyprint import HTML, URLFetcher

    fetcher = URLFetcher(allowed_protocols={"data"})  # only the embedded logo and pictures; nothing from outside
    return HTML(string=pdf_html(response, answers), url_fetcher=fetcher).render()


def as_pdf(response, answers):
    return pdf_document(response, answers).write_pdf()
