"""Properties of the pricing engine over generated usage and plans."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from billing.choices import InvoiceLineKind, PlanKind, QuantityRule
from billing.models import GIB
from billing.periods import Period
from billing.pricing import PlanTerms, PriceStep, Segment, UsageHistory, price_month

WORKLOADS = ("exchange", "onedrive", "sharepoint")
MONTHS = [Period.month_of(date(2026, m, 1)) for m in (2, 3, 4)] + [
    Period.month_of(date(2028, 2, 1))
]

money = st.decimals(min_value=0, max_value=5, places=4, allow_nan=False, allow_infinity=False)


@st.composite
def ladders(draw):
    bounds = sorted(set(draw(st.lists(st.integers(1, 2000), max_size=3))))
    steps = [PriceStep(Decimal(b), draw(money)) for b in bounds]
    return (*steps, PriceStep(None, draw(money)))


@st.composite
def plans(draw, plan_id=1):
    per_workload = draw(st.booleans())
    kind = draw(st.sampled_from(PlanKind.values))
    if per_workload and kind == PlanKind.PER_GB:
        ladder_map = {w: draw(ladders()) for w in WORKLOADS}
    else:
        ladder_map = {"": draw(ladders())}
    return PlanTerms(
        plan_id=plan_id,
        name=f"P{plan_id}",
        kind=kind,
        quantity_rule=draw(st.sampled_from(QuantityRule.values)),
        currency=draw(st.sampled_from(["USD", "EUR", "JPY"])),
        ladders=ladder_map,
        included_quantity=draw(st.decimals(min_value=0, max_value=500, places=2)),
        minimum_fee_minor=draw(st.integers(0, 50_000)),
        discount_percent=draw(st.decimals(min_value=0, max_value=100, places=2)),
    )


@st.composite
def usage(draw, month):
    history = UsageHistory()
    gb = st.integers(0, 5_000 * GIB)
    for day in month.iter_days():
        if draw(st.integers(0, 9)) == 0:  # about one day in ten has no record
            continue
        for workload in WORKLOADS:
            history.add(workload, day, draw(gb), draw(st.integers(0, 300)))
    return history


@st.composite
def cases(draw):
    month = draw(st.sampled_from(MONTHS))
    first = draw(plans(1))
    second = replace(draw(plans(2)), currency=first.currency)  # one invoice, one currency
    split = draw(st.integers(0, month.days))
    start = draw(st.integers(0, split))
    end = draw(st.integers(split, month.days))
    segments = [
        Segment(Period(month.start + timedelta(start), month.start + timedelta(split)), first),
        Segment(Period(month.start + timedelta(split), month.start + timedelta(end)), second),
    ]
    return month, segments, draw(usage(month))


@settings(max_examples=150, deadline=None)
@given(cases())
def test_lines_are_whole_minor_units_and_the_total_is_their_sum(case):
    month, segments, history = case
    lines = price_month(month=month, segments=segments, history=history)
    assert sum(line.amount_minor for line in lines) >= 0
    for line in lines:
        assert isinstance(line.amount_minor, int)
        assert isinstance(line.quantity, Decimal) and line.quantity >= 0
        assert line.quantity == line.quantity.quantize(Decimal("0.000001"))
        if line.kind == InvoiceLineKind.DISCOUNT:
            assert line.amount_minor <= 0
        else:
            assert line.amount_minor >= 0
        assert segments[0].days.start <= line.starts_on < line.ends_on <= segments[-1].days.end


@settings(max_examples=100, deadline=None)
@given(cases())
def test_each_usage_line_is_its_quantity_times_its_price_rounded_once(case):
    month, segments, history = case
    for line in price_month(month=month, segments=segments, history=history):
        if line.kind == InvoiceLineKind.USAGE:
            exponent = 0 if segments[0].terms.currency == "JPY" else 2
            exact = line.quantity * line.unit_price * 10**exponent
            assert abs(exact - line.amount_minor) <= Decimal("0.5")


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(MONTHS), st.data())
def test_splitting_a_month_between_two_identical_plans_keeps_the_quantity(month, data):
    # Daily average is additive over days: two halves add up to the whole (to rounding).
    terms = PlanTerms(1, "Flat", PlanKind.PER_GB, QuantityRule.DAILY_AVERAGE, "USD",
                      {"": (PriceStep(None, Decimal("0.07")),)})  # fmt: skip
    history = data.draw(usage(month))
    split = month.start + timedelta(data.draw(st.integers(1, month.days - 1)))
    whole = price_month(month=month, segments=[Segment(month, terms)], history=history)
    halves = price_month(
        month=month,
        segments=[
            Segment(Period(month.start, split), terms),
            Segment(Period(split, month.end), terms),
        ],
        history=history,
    )
    assert abs(sum(h.quantity for h in halves) - whole[0].quantity) <= Decimal("0.000001")
    assert abs(_total(halves) - _total(whole)) <= 1


def _total(lines) -> int:
    return sum(line.amount_minor for line in lines)
