"""Golden cases of the pricing engine: every quantity rule, tiers, included quantity, minimum
fee, discount, proration, rounding, missing days, enablement and offboarding mid-month.

Amounts are asserted in minor units, worked out by hand in the comments. March 2026 has
31 days; 1 GB is 2^30 bytes.
"""

from datetime import date, timedelta
from decimal import Decimal as D

import pytest

from billing.choices import InvoiceLineKind, PlanKind, QuantityRule
from billing.models import GIB
from billing.periods import Period
from billing.pricing import (
    CARRIED,
    RECORDED,
    PlanTerms,
    PriceStep,
    Segment,
    UsageHistory,
    month_quantity,
    price_month,
)

MARCH = Period.month_of(date(2026, 3, 1))
WORKLOADS = ("exchange", "onedrive", "sharepoint")


def day(n: int) -> date:
    return date(2026, 3, n)


def flat(rate="0.10", **overrides) -> PlanTerms:
    values = dict(
        plan_id=1,
        name="Standard",
        kind=PlanKind.PER_GB,
        quantity_rule=QuantityRule.DAILY_AVERAGE,
        currency="USD",
        ladders={"": (PriceStep(None, D(rate)),)},
    )
    return PlanTerms(**{**values, **overrides})


def history(gb_by_day=None, *, workload="exchange", month=MARCH, skip=(), **other_workloads):
    """Usage with `gb_by_day(n)` GB on `workload` each day (zeros elsewhere)."""
    usage = UsageHistory()
    for d in month.iter_days():
        if d.day in skip:
            continue
        for w in WORKLOADS:
            if w == workload and gb_by_day is not None:
                gb = D(gb_by_day(d.day))
            else:
                gb = D(other_workloads.get(w, 0))
            usage.add(w, d, int(gb * GIB), 0)
    return usage


def lines_for(terms, usage, days=MARCH):
    return price_month(month=MARCH, segments=[Segment(days, terms)], history=usage)


def amounts(lines):
    return [(line.kind, line.quantity, line.amount_minor) for line in lines]


# --- quantity rules ---------------------------------------------------------------------------


# Days 1-15: 10 GB, days 16-30: 20 GB, day 31: 5 GB.
def stepped(n):
    return 10 if n <= 15 else 20 if n <= 30 else 5


@pytest.mark.parametrize(
    ("rule", "quantity", "amount"),
    [
        # (15x10 + 15x20 + 5) / 31 = 455/31 = 14.677419 GB-month; x 0.10 = 1.4677 -> 147
        (QuantityRule.DAILY_AVERAGE, D("14.677419"), 147),
        # highest day 20 GB x 31/31 -> 2.00
        (QuantityRule.PEAK, D("20"), 200),
        # value on 31 March, 5 GB -> 0.50
        (QuantityRule.MONTH_END, D("5"), 50),
    ],
)
def test_each_quantity_rule(rule, quantity, amount):
    lines = lines_for(flat(quantity_rule=rule), history(stepped))
    assert amounts(lines) == [(InvoiceLineKind.USAGE, quantity, amount)]
    assert len(lines[0].series) == 31
    assert lines[0].series[30].value == 5 * GIB


def test_peak_names_its_day_and_month_end_its_value():
    peak = lines_for(flat(quantity_rule=QuantityRule.PEAK), history(stepped))[0]
    assert peak.basis == "20 GB-month measured: highest daily value (20 GB on 16 Mar)"
    end = lines_for(flat(quantity_rule=QuantityRule.MONTH_END), history(stepped))[0]
    assert end.basis == "5 GB-month measured: value on 31 Mar (5 GB)"


# --- rounding -------------------------------------------------------------------------------


def test_each_line_rounds_half_up_once():
    # 1.25 GB on each workload, priced per workload at 0.10: 0.125 per line -> 13 each.
    # Rounding the sum instead (0.375 -> 38) or banker's rounding (12 each) would differ.
    terms = flat(ladders={w: (PriceStep(None, D("0.10")),) for w in WORKLOADS})
    usage = history(lambda n: "1.25", exchange="1.25", onedrive="1.25", sharepoint="1.25")
    lines = lines_for(terms, usage)
    assert [line.amount_minor for line in lines] == [13, 13, 13]
    assert sum(line.amount_minor for line in lines) == 39


def test_a_quantity_that_does_not_divide_evenly_keeps_six_decimals():
    # 10 GB on one day only: 10/31 = 0.322580645... -> 0.322581 GB-month; x 0.07 = 0.02258 -> 2
    lines = lines_for(flat("0.07"), history(lambda n: 10 if n == 1 else 0))
    assert amounts(lines) == [(InvoiceLineKind.USAGE, D("0.322581"), 2)]


# --- tiers, included quantity, minimum, discount --------------------------------------------

TIERS = (PriceStep(D(100), D("0.10")), PriceStep(D(500), D("0.08")), PriceStep(None, D("0.05")))


def test_graduated_tiers():
    # 612.5 GB: 100 x 0.10 = 10.00; 400 x 0.08 = 32.00; 112.5 x 0.05 = 5.625 -> 5.63
    lines = lines_for(flat(ladders={"": TIERS}), history(lambda n: "612.5"))
    assert amounts(lines) == [
        ("usage", D(100), 1000),
        ("usage", D(400), 3200),
        ("usage", D("112.5"), 563),
    ]
    assert lines[1].description == "Protected data, tier 2 (above 100 up to 500 GB-month)"


def test_usage_within_the_first_tier_is_one_line():
    lines = lines_for(flat(ladders={"": TIERS}), history(lambda n: 40))
    assert amounts(lines) == [("usage", D(40), 400)]


def test_included_quantity_comes_off_first():
    # 80 GB, 50 included: 30 x 0.10 = 3.00
    lines = lines_for(flat(included_quantity=D(50)), history(lambda n: 80))
    assert amounts(lines) == [("included", D(50), 0), ("usage", D(30), 300)]
    # 40 GB, all included: one zero line that still carries the days
    lines = lines_for(flat(included_quantity=D(50)), history(lambda n: 40))
    assert amounts(lines) == [("included", D(40), 0)]
    assert len(lines[0].series) == 31


def test_included_quantity_then_tiers_counted_from_zero():
    # 200 GB, 50 included, then 100 x 0.10 + 50 x 0.05
    terms = flat(
        included_quantity=D(50),
        ladders={"": (PriceStep(D(100), D("0.10")), PriceStep(None, D("0.05")))},
    )
    lines = lines_for(terms, history(lambda n: 200))
    assert amounts(lines) == [
        ("included", D(50), 0),
        ("usage", D(100), 1000),
        ("usage", D(50), 250),
    ]


def test_per_workload_prices_use_the_included_quantity_in_workload_order():
    # Exchange 30 GB, OneDrive 40 GB, SharePoint 10 GB; 50 GB included:
    # Exchange 30 included; OneDrive 20 included + 20 x 0.10; SharePoint 10 x 0.15
    terms = flat(
        included_quantity=D(50),
        ladders={
            "exchange": (PriceStep(None, D("0.05")),),
            "onedrive": (PriceStep(None, D("0.10")),),
            "sharepoint": (PriceStep(None, D("0.15")),),
        },
    )
    usage = history(lambda n: 30, onedrive=40, sharepoint=10)
    lines = lines_for(terms, usage)
    assert [(line.workload, *a) for line, a in zip(lines, amounts(lines), strict=True)] == [
        ("exchange", "included", D(30), 0),
        ("onedrive", "included", D(20), 0),
        ("onedrive", "usage", D(20), 200),
        ("sharepoint", "usage", D(10), 150),
    ]
    assert lines[0].description == "Exchange (mailboxes): included in the plan"


def test_minimum_fee_tops_up_a_small_month():
    # 10 GB x 0.10 = 1.00; minimum 25.00 -> top-up 24.00
    lines = lines_for(flat(minimum_fee_minor=2500), history(lambda n: 10))
    assert amounts(lines) == [("usage", D(10), 100), ("minimum", D(0), 2400)]
    assert sum(line.amount_minor for line in lines) == 2500
    # Above the minimum: no top-up.
    assert len(lines_for(flat(minimum_fee_minor=2500), history(lambda n: 300))) == 1


def test_discount_applies_to_usage_and_top_up_and_rounds_once():
    # tiers above: 47.63; 10 % = 4.763 -> 4.76 off
    lines = lines_for(flat(ladders={"": TIERS}, discount_percent=D(10)), history(lambda n: "612.5"))
    assert lines[-1].kind == InvoiceLineKind.DISCOUNT
    assert lines[-1].amount_minor == -476
    assert sum(line.amount_minor for line in lines) == 4763 - 476
    # With a minimum: 25.00 - 12.5 % = 21.875 -> 3.13 off (half-up of 3.125)
    lines = lines_for(
        flat(minimum_fee_minor=2500, discount_percent=D("12.5")), history(lambda n: 10)
    )
    assert [line.amount_minor for line in lines] == [100, 2400, -313]


# --- proration and the billing window --------------------------------------------------------


def test_a_mid_month_plan_change_prorates_by_day():
    # 100 GB all month. Plan A (0.10, minimum 31.00) for 1-15, plan B (0.20) for 16-31.
    # A: 100 x 15/31 = 48.387097 x 0.10 = 4.84; minimum 31.00 x 15/31 = 15.00 -> top-up 10.16
    # B: 100 x 16/31 = 51.612903 x 0.20 = 10.3226 -> 10.32
    plan_a = flat("0.10", plan_id=1, name="A", minimum_fee_minor=3100)
    plan_b = flat("0.20", plan_id=2, name="B")
    lines = price_month(
        month=MARCH,
        segments=[
            Segment(Period(day(1), day(16)), plan_a),
            Segment(Period(day(16), date(2026, 4, 1)), plan_b),
        ],
        history=history(lambda n: 100),
    )
    assert [(line.plan_name, *a) for line, a in zip(lines, amounts(lines), strict=True)] == [
        ("A", "usage", D("48.387097"), 484),
        ("A", "minimum", D(0), 1016),
        ("B", "usage", D("51.612903"), 1032),
    ]
    assert sum(line.amount_minor for line in lines) == 2532
    assert lines[0].description == "Protected data, 1-15 Mar"
    assert (lines[2].starts_on, lines[2].ends_on) == (day(16), date(2026, 4, 1))
    assert [v.day for v in lines[2].series] == [day(n) for n in range(16, 32)]


def test_tier_bounds_and_included_quantity_prorate_with_the_segment():
    # 15 of 31 days under a plan with 62 GB included and a tier bound at 310 GB:
    # included 62 x 15/31 = 30; bound 310 x 15/31 = 150.
    # 620 GB all along: measured 620 x 15/31 = 300 -> 30 included, 150 @ 0.10, 120 @ 0.05
    terms = flat(
        included_quantity=D(62),
        ladders={"": (PriceStep(D(310), D("0.10")), PriceStep(None, D("0.05")))},
    )
    lines = lines_for(terms, history(lambda n: 620), days=Period(day(1), day(16)))
    assert amounts(lines) == [
        ("included", D(30), 0),
        ("usage", D(150), 1500),
        ("usage", D(120), 600),
    ]


def test_enablement_mid_month_counts_the_days_before_as_zero():
    # Enabled on the 20th: 12 days of 100 GB over 31 -> 38.709677 x 0.10 = 3.87;
    # minimum 31.00 x 12/31 = 12.00 -> top-up 8.13
    lines = lines_for(
        flat(minimum_fee_minor=3100),
        history(lambda n: 100 if n >= 20 else 0),
        days=Period(day(20), date(2026, 4, 1)),
    )
    assert amounts(lines) == [("usage", D("38.709677"), 387), ("minimum", D(0), 813)]


def test_offboarding_mid_month_stops_at_the_end_of_the_tail():
    # Billing window ends 11 March (exclusive): 10 days of 100 GB -> 32.258065 x 0.10 = 3.23
    lines = lines_for(flat(), history(lambda n: 100), days=Period(day(1), day(11)))
    assert amounts(lines) == [("usage", D("32.258065"), 323)]
    assert lines[0].series[-1].day == day(10)


def test_no_billable_day_gives_no_line():
    assert lines_for(flat(), history(lambda n: 100), days=Period(day(5), day(5))) == []


# --- missing days -----------------------------------------------------------------------------


def test_a_missing_day_carries_the_last_known_value():
    # 10 GB a day, 30 GB on the 9th, no record on the 10th and 11th: they carry 30.
    # (28 x 10 + 30 + 2 x 30) / 31 = 370/31 = 11.935484 x 0.10 = 1.19
    usage = history(lambda n: 30 if n == 9 else 10, skip=(10, 11))
    line = lines_for(flat(), usage)[0]
    assert (line.quantity, line.amount_minor) == (D("11.935484"), 119)
    assert [(v.day.day, v.value // GIB, v.source) for v in line.series[8:12]] == [
        (9, 30, RECORDED),
        (10, 30, CARRIED),
        (11, 30, CARRIED),
        (12, 10, RECORDED),
    ]


def test_a_month_that_starts_with_missing_days_carries_the_previous_month():
    usage = history(lambda n: 10, skip=(1, 2))
    usage.carry_in = {"exchange": (7 * GIB, 0)}
    line = lines_for(flat(), usage)[0]
    # (7 + 7 + 29 x 10) / 31 = 304/31 = 9.806452
    assert line.quantity == D("9.806452")
    # With nothing known before, a missing day is zero.
    assert lines_for(flat(), history(lambda n: 10, skip=(1, 2)))[0].quantity == D("9.354839")


# --- per-user plans ---------------------------------------------------------------------------


def seats_history(seats_by_day):
    usage = UsageHistory()
    for d in MARCH.iter_days():
        exchange, onedrive = seats_by_day(d.day)
        usage.add("exchange", d, 50 * GIB, exchange)
        usage.add("onedrive", d, 20 * GIB, onedrive)
        usage.add("sharepoint", d, 5 * GIB, 0)
    return usage


@pytest.mark.parametrize(
    ("rule", "quantity", "amount"),
    [
        # 8 mailbox users + 2 OneDrive-only users = 10 seats, 12 from the 22nd (10 days)
        # average: (21 x 10 + 10 x 12) / 31 = 330/31 = 10.645161 x 3.00 = 31.94
        (QuantityRule.DAILY_AVERAGE, D("10.645161"), 3194),
        (QuantityRule.PEAK, D("12"), 3600),
        (QuantityRule.MONTH_END, D("12"), 3600),
    ],
)
def test_per_user_plans_count_seats(rule, quantity, amount):
    terms = flat("3.00", kind=PlanKind.PER_USER, quantity_rule=rule)
    lines = lines_for(terms, seats_history(lambda n: (8, 2) if n < 22 else (9, 3)))
    assert amounts(lines) == [("usage", quantity, amount)]
    assert lines[0].unit == "seat_month" and lines[0].description == "Protected users"


def test_month_quantity_of_an_empty_series_is_zero():
    assert month_quantity((), rule=QuantityRule.PEAK, month=MARCH, per_gb=True).quantity == 0


def test_carry_over_a_whole_month_without_records():
    usage = UsageHistory(carry_in={"exchange": (31 * GIB, 0)})
    line = lines_for(flat(), usage)[0]
    assert line.quantity == D(31)
    assert {v.source for v in line.series} == {CARRIED}
    assert line.series[0].day == MARCH.start and line.series[-1].day == MARCH.end - timedelta(1)
