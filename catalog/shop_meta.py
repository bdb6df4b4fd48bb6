"""Centra's shop set-up (countries, languages, markets, pricelists) as the cache keeps it."""

from __future__ import annotations

from dataclasses import dataclass, field

from storefront.jsonio import JsonDict


@dataclass(frozen=True)
class CountryDefaults:
    market: str
    pricelist: str
    language: str


@dataclass
class ShopMeta:
    """Centra's shop set-up as fetched server-side (countries carry market and pricelist)."""

    countries: list[JsonDict]
    languages: list[JsonDict]
    markets: list[JsonDict]
    pricelists: list[JsonDict]
    fetched_at: str = ""
    _by_country: dict[str, CountryDefaults] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_country = {
            str(c["country"]).upper(): CountryDefaults(
                market=str(c.get("market", "")),
                pricelist=str(c.get("pricelist", "")),
                language=str(c.get("language", "")),
            )
            for c in self.countries
            if c.get("country")
        }
        self._markets = {str(m["market"]) for m in self.markets}
        self._pricelists = {str(p["pricelist"]) for p in self.pricelists}
        self._languages = {str(lang["language"]) for lang in self.languages}

    def as_json(self) -> JsonDict:
        return {
            "countries": self.countries,
            "languages": self.languages,
            "markets": self.markets,
            "pricelists": self.pricelists,
            "fetchedAt": self.fetched_at,
        }

    @classmethod
    def from_json(cls, data: JsonDict) -> ShopMeta:
        return cls(
            countries=list(data.get("countries") or []),
            languages=list(data.get("languages") or []),
            markets=list(data.get("markets") or []),
            pricelists=list(data.get("pricelists") or []),
            fetched_at=str(data.get("fetchedAt") or ""),
        )

    # storefront.context.Shop
    def country_defaults(self, country: str) -> CountryDefaults | None:
        return self._by_country.get(country.upper())

    def has_market(self, market: str) -> bool:
        return market in self._markets

    def has_pricelist(self, pricelist: str) -> bool:
        return pricelist in self._pricelists

    def has_language(self, language: str) -> bool:
        return language in self._languages

    @property
    def market_ids(self) -> list[str]:
        return [str(m["market"]) for m in self.markets]

    @property
    def language_codes(self) -> list[str]:
        return [str(lang["language"]) for lang in self.languages]

    @property
    def pricelist_ids(self) -> list[str]:
        return [str(p["pricelist"]) for p in self.pricelists]

    def currency_formats(self) -> dict[str, dict[str, str]]:
        return {str(p["pricelist"]): pricelist_format(p) for p in self.pricelists}

    def currency_code(self, pricelist: str) -> str:
        """The currency code of a pricelist ("SEK"), whichever shape Centra sent."""
        for p in self.pricelists:
            if str(p.get("pricelist")) == pricelist:
                return currency_code(p)
        return ""


def pricelist_format(pricelist: JsonDict) -> dict[str, str]:
    """How a pricelist formats prices: the seeds' ``currencyFormat``, else today's ``currency``
    object (the same fields without ``thousandsSeparator``), else nothing known."""
    fmt = pricelist.get("currencyFormat")
    if not isinstance(fmt, dict):
        fmt = pricelist.get("currency")
    if not isinstance(fmt, dict):
        return {}
    return {str(k): str(v) for k, v in fmt.items() if isinstance(v, (str, int)) and v is not True}


def currency_code(pricelist: JsonDict) -> str:
    """``currency`` is a code in the seeds and a Currency object in today's Centra."""
    currency = pricelist.get("currency")
    if isinstance(currency, dict):
        currency = currency.get("currency")
    if not currency:
        fmt = pricelist.get("currencyFormat")
        currency = fmt.get("currency") if isinstance(fmt, dict) else None
    return currency if isinstance(currency, str) else ""
