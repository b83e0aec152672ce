"""The words shown for the forms' own codes: where a value came from, a submission's state, a data
element's type, aggregation and period (each map translated once per locale)."""

from __future__ import annotations

from flask_babel import gettext as _

from office.web import translated


def source_label(source: str) -> str:
    # Translated once per locale (a 200-field form shows a source per field).
    return translated("forms.sources", lambda: {
        "typed": _("Typed"), "shared": _("Shared data"), "form": _("Another form"),
        "carried_forward": _("Carried forward"), "computed": _("Computed"),
        "confirmed": _("Confirmed unchanged"), "excel": _("Excel upload")}).get(source, "")


def state_label(state: str) -> str:
    return translated("forms.states", lambda: {
        "draft": _("Draft"), "submitted": _("Submitted"), "approved": _("Approved"),
        "returned": _("Returned")}).get(state, "")


def field_status_label(status: str) -> str:
    """What the clerk did with a field in this submission (counted by the workload meter)."""
    return translated("forms.field_status", lambda: {
        "typed": _("typed in"), "edited": _("prefill changed"), "confirmed": _("kept as prefilled")}).get(status, "")


def value_type_label(value_type: str) -> str:
    return translated("forms.value_types", lambda: {
        "integer": _("Whole number"), "decimal": _("Decimal number"), "percentage": _("Percentage"),
        "text": _("Text"), "date": _("Date"), "yesno": _("Yes / no"), "choice": _("Choice")}).get(value_type, "")


def aggregation_label(aggregation: str) -> str:
    return translated("forms.aggregations", lambda: {
        "sum": _("Sum"), "average": _("Average"), "min": _("Minimum"), "max": _("Maximum"),
        "none": _("Not rolled up"), "ratio": _("Ratio")}).get(aggregation, "")


def period_label(period_type: str) -> str:
    return translated("forms.periods", lambda: {
        "month": _("Monthly"), "quarter": _("Quarterly"), "year": _("Yearly"),
        "static": _("Not periodic")}).get(period_type, "")
