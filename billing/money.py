"""Money: integer minor units with an ISO 4217 currency, Decimal for everything in between.

`to_minor` is the one rounding function of billing (half-up, i.e. ties away from zero) and
is applied once per invoice line. Floats never appear: inputs are Decimal or int, and a
float argument is refused rather than silently converted.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, localcontext

from billing.choices import Currency

# ISO 4217 minor-unit exponents of the currencies plans may use.
MINOR_UNIT_EXPONENT: dict[str, int] = {code: 2 for code in Currency.values} | {"JPY": 0}

# Quantities (GB-month, seat-month) are shown and multiplied with six decimals.
QUANTITY_PLACES = Decimal("0.000001")
# Enough digits for 10^15 bytes x 31 days divided exactly before quantizing.
_PRECISION = 50


def exponent(currency: str) -> int:
    try:
        return MINOR_UNIT_EXPONENT[currency]
    except KeyError:
        raise ValueError(f"Unsupported currency {currency!r}.") from None


def _decimal(value: Decimal | int) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Billing never takes floats; pass a Decimal or an int.")
    return value if isinstance(value, Decimal) else Decimal(value)


def to_minor(amount: Decimal | int, currency: str) -> int:
    """An amount in major units (Decimal) as integer minor units, rounded half-up once."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        scaled = _decimal(amount).scaleb(exponent(currency))
        return int(scaled.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as an exact Decimal in major units (for display and CSV)."""
    places = exponent(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def quantize_quantity(value: Decimal) -> Decimal:
    """A quantity to six decimals, half-up: the figure printed on the line and multiplied."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return _decimal(value).quantize(QUANTITY_PLACES, rounding=ROUND_HALF_UP)


def ratio(numerator: int, denominator: int) -> Decimal:
    """An exact-enough Decimal quotient of two integers (50 significant digits)."""
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        return Decimal(numerator) / Decimal(denominator)


def quantity_ratio(numerator: int, denominator: int) -> Decimal:
    """`numerator / denominator` rounded half-up to six decimals, in exact integer arithmetic
    (the same figure as `quantize_quantity(ratio(...))`, without a 50-digit division)."""
    if isinstance(numerator, float) or isinstance(denominator, float):
        raise TypeError("Billing never takes floats; pass ints.")
    if numerator < 0 or denominator <= 0:
        raise ValueError("quantity_ratio takes a non-negative numerator and a positive denominator")
    scaled, remainder = divmod(numerator * 1_000_000, denominator)
    if 2 * remainder >= denominator:
        scaled += 1
    return Decimal(scaled).scaleb(-6)


def format_money(minor: int, currency: str) -> str:
    """`USD 1,234.56`: formatting happens only at the edge (pages, PDF, e-mail)."""
    major = to_major(minor, currency)
    sign = "-" if major < 0 else ""
    return f"{sign}{currency} {abs(major):,}"


def parse_major(text: str | Decimal, currency: str) -> int:
    """A customer-typed amount in major units ("250", "250.5") as minor units; refuses more
    decimals than the currency has rather than rounding them away."""
    value = _decimal(Decimal(str(text)))
    if value != value.quantize(Decimal(1).scaleb(-exponent(currency))):
        raise ValueError(f"{currency} amounts have at most {exponent(currency)} decimals.")
    return to_minor(value, currency)
