"""Invoice documents: the PDF (fpdf2) and the CSV exports.

CSV layout (PSA import friendly): **one row per invoice line**, the invoice's own columns
repeated on each of its rows, amounts in major units with a `currency` column. The same
layout serves one invoice and every invoice of a period. `days` exports one row per line
and day: the daily figures behind each quantity.

The PDF uses fpdf2's core Helvetica font (no font file to ship), which covers Latin-1;
other characters are replaced (names are printed as close to the original as possible).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Iterator

from django.conf import settings
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from billing.choices import InvoiceStatus, QuantityUnit
from billing.models import GIB, Invoice
from billing.money import format_money, quantize_quantity, ratio, to_major
from billing.periods import Period

CSV_COLUMNS = [
    "invoice_number",
    "status",
    "tenant_slug",
    "tenant_name",
    "period_start",
    "period_end",
    "issued_on",
    "due_on",
    "currency",
    "line",
    "line_kind",
    "description",
    "plan",
    "workload",
    "starts_on",
    "ends_on",
    "quantity",
    "unit",
    "unit_price",
    "amount",
    "invoice_total",
    "credited",
    "amount_due",
]
DAY_COLUMNS = ["invoice_number", "line", "description", "day", "value", "unit", "source"]
SOURCES = {"r": "recorded", "c": "carried (no record that day)"}


def invoices_for_documents(queryset):
    """Invoices with everything the documents print, in three queries."""
    return queryset.select_related("tenant").prefetch_related("lines", "credit_notes")


# --- CSV ------------------------------------------------------------------------------------


def _cell(value) -> str:
    """Text as a spreadsheet will not execute it (CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def invoice_csv_rows(invoices: Iterable[Invoice]) -> Iterator[list[str]]:
    yield CSV_COLUMNS
    for invoice in invoices:
        cur = invoice.currency
        head = [
            invoice.number or "",
            invoice.status,
            invoice.tenant.slug,
            _cell(invoice.tenant.name),
            invoice.period_start.isoformat(),
            invoice.period_end.isoformat(),
            invoice.finalized_at.date().isoformat() if invoice.finalized_at else "",
            invoice.due_on.isoformat() if invoice.due_on else "",
            cur,
        ]
        tail = [
            str(to_major(invoice.total_minor, cur)),
            str(to_major(invoice.credited_minor, cur)),
            str(to_major(invoice.amount_due_minor, cur)),
        ]
        for line in invoice.lines.all():
            yield [
                *head,
                str(line.position),
                line.kind,
                _cell(line.description),
                _cell(line.plan_name),
                line.workload,
                line.starts_on.isoformat(),
                line.ends_on.isoformat(),
                str(line.quantity),
                line.unit,
                str(line.unit_price),
                str(to_major(line.amount_minor, cur)),
                *tail,
            ]


def invoice_day_rows(invoices: Iterable[Invoice]) -> Iterator[list[str]]:
    yield DAY_COLUMNS
    for invoice in invoices:
        for line in invoice.lines.all():
            for day, value, source in line.daily():
                yield [
                    invoice.number or "",
                    str(line.position),
                    _cell(line.description),
                    day,
                    series_value(value, line.unit),
                    "GB" if line.unit == QuantityUnit.GB_MONTH else "seats",
                    SOURCES.get(source, source),
                ]


def series_value(value: int, unit: str) -> str:
    if unit == QuantityUnit.GB_MONTH:
        return str(quantize_quantity(ratio(value, GIB)))
    return str(value)


def csv_bytes(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def invoice_filename(invoice: Invoice, extension: str) -> str:
    name = invoice.number or f"draft-{invoice.tenant.slug}-{invoice.period_start:%Y-%m}"
    return f"{name}.{extension}"


# --- PDF ------------------------------------------------------------------------------------


def _latin1(text: str) -> str:
    replaced = (
        str(text)
        .replace("\u2013", "-")
        .replace("\u2014", "-")
        .replace("\u2019", "'")
        .replace("\u201c", '"')
        .replace("\u201d", '"')
        .replace("\u2026", "...")
    )
    if all(ord(ch) < 256 for ch in replaced):
        return replaced
    decomposed = unicodedata.normalize("NFKD", replaced)
    kept = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return kept.encode("latin-1", "replace").decode("latin-1")


class _InvoicePDF(FPDF):
    def __init__(self, footer_text: str):
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.footer_text = footer_text
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 16, 18)

    def footer(self):
        self.set_y(-14)
        self.set_font("helvetica", size=7)
        self.set_text_color(110, 110, 110)
        self.cell(self.epw - 20, 5, _latin1(self.footer_text), align="L")
        self.cell(20, 5, f"Page {self.page_no()}/{{nb}}", align="R")


def invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as a PDF: header, lines, totals, credit notes, and the daily figures
    behind each quantity on the following pages."""
    cur = invoice.currency
    month = Period(invoice.period_start, invoice.period_end)
    pdf = _InvoicePDF(
        f"{settings.BILLING_ISSUER_NAME} - {invoice.number or 'draft'} - "
        "GB = 2^30 bytes; GB-month and seat-month as explained on each line."
    )
    pdf.alias_nb_pages()
    pdf.add_page()

    def text(value, size=9, style="", h=5, **kw):
        pdf.set_font("helvetica", style=style, size=size)
        pdf.cell(0, h, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT, **kw)

    text(settings.BILLING_ISSUER_NAME, size=14, style="B", h=7)
    for part in filter(None, settings.BILLING_ISSUER_ADDRESS.split(",")):
        text(part.strip())
    pdf.ln(4)
    title = {
        InvoiceStatus.DRAFT: "Draft invoice (not issued)",
        InvoiceStatus.VOID: f"Invoice {invoice.number or ''} - VOID",
    }.get(invoice.status, f"Invoice {invoice.number}")
    text(title, size=16, style="B", h=9)
    pdf.ln(1)
    facts = [
        ("Bill to", f"{invoice.tenant.name} ({invoice.tenant.primary_domain})"),
        ("Period", f"{month.start:%B %Y} ({month.start:%Y-%m-%d} to {month.last_day:%Y-%m-%d})"),
        ("Issued", f"{invoice.finalized_at:%Y-%m-%d}" if invoice.finalized_at else "-"),
        ("Due", f"{invoice.due_on:%Y-%m-%d}" if invoice.due_on else "-"),
        ("Status", invoice.get_status_display()),
    ]
    if invoice.status == InvoiceStatus.VOID:
        facts.append(("Voided", invoice.void_reason))
    for label, value in facts:
        pdf.set_font("helvetica", style="B", size=9)
        pdf.cell(28, 5, label)
        pdf.set_font("helvetica", size=9)
        pdf.cell(0, 5, _latin1(value), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)

    lines = list(invoice.lines.all())
    pdf.set_font("helvetica", size=8)
    with pdf.table(
        col_widths=(78, 26, 26, 22, 22),
        text_align=("LEFT", "LEFT", "RIGHT", "RIGHT", "RIGHT"),
        line_height=4.6,
        first_row_as_headings=True,
    ) as table:
        table.row(["Description", "Plan", "Quantity", f"Unit price ({cur})", f"Amount ({cur})"])
        for line in lines:
            quantity = (
                f"{line.quantity.normalize():f} {line.get_unit_display()}" if line.unit else ""
            )
            price = f"{line.unit_price.normalize():f}" if line.unit else ""
            description = line.description + (f"\n{line.basis}" if line.basis else "")
            table.row(
                [
                    _latin1(description),
                    _latin1(line.plan_name),
                    quantity,
                    price,
                    f"{to_major(line.amount_minor, cur):,}",
                ]
            )
    pdf.ln(3)

    def total(label, minor, bold=False):
        pdf.set_font("helvetica", style="B" if bold else "", size=10 if bold else 9)
        pdf.cell(130, 6, label, align="R")
        pdf.cell(0, 6, format_money(minor, cur), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    total("Total", invoice.total_minor, bold=True)
    for note in invoice.credit_notes.all():
        total(f"Credit note {note.number} ({_latin1(note.reason)[:40]})", -note.amount_minor)
    if invoice.credited_minor:
        total("Net", invoice.total_minor - invoice.credited_minor)
    if invoice.status == InvoiceStatus.FINALIZED:
        total("Amount due", invoice.amount_due_minor, bold=True)
    elif invoice.status == InvoiceStatus.PAID:
        total(f"Paid {invoice.paid_at:%Y-%m-%d}", invoice.total_minor - invoice.credited_minor)
    if invoice.notes:
        pdf.ln(3)
        pdf.set_font("helvetica", size=9)
        pdf.multi_cell(0, 5, _latin1(invoice.notes), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    _daily_pages(pdf, invoice, lines)
    return bytes(pdf.output())


def _daily_pages(pdf: FPDF, invoice: Invoice, lines) -> None:
    """One table per distinct daily series (the lines of one ladder share theirs)."""
    groups: dict[tuple, list] = {}
    for line in lines:
        if line.series:
            groups.setdefault((line.starts_on, line.workload, line.plan_name), []).append(line)
    for group in groups.values():
        first, unit = group[0], "GB" if group[0].unit == QuantityUnit.GB_MONTH else "seats"
        numbers = ", ".join(str(line.position) for line in group)
        pdf.add_page()
        pdf.set_font("helvetica", style="B", size=11)
        pdf.multi_cell(
            0,
            6,
            _latin1(f"Daily figures behind line{'s' if len(group) > 1 else ''} {numbers}"),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.set_font("helvetica", size=8)
        pdf.multi_cell(
            0,
            4.5,
            _latin1(f"{first.plan_name}, {first.description.split(',')[0]}: {first.basis}."),
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )
        pdf.ln(1)
        with pdf.table(
            col_widths=(30, 40, 60),
            text_align=("LEFT", "RIGHT", "LEFT"),
            line_height=4.2,
            width=130,
        ) as table:
            table.row(["Day", f"Protected ({unit})", "Source"])
            for day, value, source in first.daily():
                table.row([day, series_value(value, first.unit), SOURCES.get(source, source)])
