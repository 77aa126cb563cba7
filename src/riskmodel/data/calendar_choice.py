"""The holiday-calendar choice of the forecast models (``calendar`` / ``--calendar``): names only.

``CN`` (the Chinese statutory calendar, :mod:`riskmodel.data.calendar`),
``none`` (no holiday regressors) or a country code of the ``holidays``
package (a development dependency: without it other codes are refused,
naming the choices). The calendars themselves are built by
:mod:`riskmodel.features.calendar`; this module is light (no pandas, no
calendar) so that the command line can check and resolve the choice at
start.
"""

from __future__ import annotations

from riskmodel.errors import InputError, Problem

DEFAULT_CALENDAR = "CN"
"""The calendar when neither the caller nor the data name one: the sample city's (China's)."""

NO_CALENDAR = "none"
"""The calendar choice without holiday regressors."""


def _holidays_countries() -> set[str] | None:
    """The country codes of the ``holidays`` package, or None when it is not installed."""
    try:
        import holidays  # here, not at the top: a development dependency, and slow to import
    except ImportError:
        return None
    return {str(c).upper() for c in holidays.list_supported_countries()}


def check_calendar(calendar: str | None, *, option: str = "calendar") -> str:
    """The calendar choice normalised (``"CN"``, ``"none"`` or an upper-case country code).

    ``None`` or ``""`` is :data:`DEFAULT_CALENDAR`. A code other than CN and
    none needs the ``holidays`` package; an InputError naming ``option`` says
    what is valid otherwise.
    """
    if calendar is None or str(calendar).strip() == "":
        return DEFAULT_CALENDAR
    c = str(calendar).strip()
    if c.lower() == NO_CALENDAR:
        return NO_CALENDAR
    if c.upper() == DEFAULT_CALENDAR:
        return DEFAULT_CALENDAR
    known = _holidays_countries()
    if known is None:
        raise InputError(Problem(
            f"{option}={c!r}: only CN (the Chinese statutory calendar) and none are available; other countries' "
            "calendars need the 'holidays' package (pip install holidays)"))
    if c.upper() not in known:
        raise InputError(Problem(
            f"{option}={c!r} is not a country code of the 'holidays' package; valid: CN, none or an ISO code "
            "such as US, GB, DE, FR"))
    return c.upper()


def resolve_calendar(calendar: str | None, country: object = None, *,
                     option: str = "calendar") -> tuple[str, str | None]:
    """The calendar to use and, when it was not given explicitly, a note saying what was chosen and why.

    Parameters
    ----------
    calendar : str, optional
        The explicit choice (``CN``, ``none``, a country code); None: the data's country.
    country : str, optional
        The data's country (``panel.meta["country"]``, a study's ``[data] country``).

    Returns
    -------
    (calendar, note): the note is None when ``calendar`` was given.
    """
    if calendar is not None and str(calendar).strip() != "":
        return check_calendar(calendar, option=option), None
    if country is not None and str(country).strip() != "":
        code = check_calendar(str(country), option="country")
        return code, (f"note: calendar regressors: {code} (the data's country; change with {option})")
    return DEFAULT_CALENDAR, (f"note: calendar regressors: {DEFAULT_CALENDAR} (Chinese statutory holidays and make-up "
                              f"workdays: the data name no country; change with {option}, e.g. none)")


__all__ = ["DEFAULT_CALENDAR", "NO_CALENDAR", "check_calendar", "resolve_calendar"]
