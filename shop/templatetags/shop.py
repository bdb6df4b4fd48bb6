"""Template tags of the shop's pages: its words in the visitor's language, and the hot fragments.

``{% load shop %}`` gives ``{% t "Pay {amount}" amount=total %}`` and ``{% tv text values %}``
(the values in a dictionary, e.g. a notice carried over from the page before). The words come
from the gettext catalogues in ``shop/locale`` through :func:`shop.words.translate`; a text
with no entry (one of Centra's error texts) is shown as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from html import escape
from typing import TYPE_CHECKING, Any

from django import template
from django.utils.safestring import mark_safe

from shop import localnames
from shop.words import translate

if TYPE_CHECKING:
    from shop.context import CountryOption
    from shop.viewmodels import Card, Facet, ItemTable, SizeCell

register = template.Library()


@register.simple_tag(takes_context=True)
def t(context: template.Context, text: Any, **values: Any) -> str:
    """``{% t "Page {page} of {pages}" page=2 pages=7 %}`` in the page's language (escaped
    like any variable)."""
    return translate(str(context.get("lang", "en")), str(text), **values)


@register.simple_tag(takes_context=True)
def tv(context: template.Context, text: Any, values: Mapping[str, Any] | None = None) -> str:
    """``{% tv notice.text notice.values %}``: the values in a dictionary."""
    return translate(str(context.get("lang", "en")), str(text), **dict(values or {}))


# -- hot fragments -------------------------------------------------------------------------------
# The repeated parts of a listing (product cards, facet values) and the picker's options are
# built here rather than in template loops: a listing has a dozen cards and some fifty facet
# values, and Django's template engine spends most of a cold page render on such loops. The
# HTML stays small and every value is escaped.


@lru_cache(maxsize=8192)
def _card_html(card: Card, language: str, lazy: bool) -> str:
    """One card; the same card shows on many listings (sorts, filters, pages), so it is built
    once per product state and language."""
    badge = ""
    if card.sold_out:
        # Said in words, not only by a dimmed image: the link's text reads "Sold out" too.
        badge = (
            f'<span class="badge badge-sold-out">{escape(translate(language, "Sold out"))}</span>'
        )
    elif card.on_sale:
        badge = f'<span class="badge badge-sale">\u2212{card.discount}%</span>'
    elif card.new:
        badge = f'<span class="badge badge-new">{escape(translate(language, "New"))}</span>'
    image = ""
    if card.image:
        image = (
            f'<img src="{escape(card.image)}" alt="{escape(card.name)}" width="600" height="800"'
            + (' loading="lazy"' if lazy else "")
            + ">"
        )
    if card.price:
        price = (
            f'<span class="price-now{" sale" if card.on_sale else ""}">{escape(card.price)}</span>'
        )
        if card.before:
            price += f' <s class="price-before">{escape(card.before)}</s>'
    else:
        price = f'<span class="price-none">{escape(translate(language, "Not available"))}</span>'
    colours = ""
    if card.colours == 1:
        colours = translate(language, "+1 colour")
    elif card.colours > 1:
        colours = translate(language, "+{count} colours", count=card.colours)
    return (
        f'<li class="card{" sold-out" if card.sold_out else ""}"><a href="{escape(card.url)}"'
        f' data-colour="{escape(card.colour)}">'
        f'<div class="card-media">{image}{badge}</div>'
        f'<div class="card-body"><p class="card-brand">{escape(card.brand)}</p>'
        f'<h3 class="card-name">{escape(card.name)}</h3><p class="price">{price}</p>'
        + (f'<p class="card-colours">{escape(colours)}</p>' if colours else "")
        + "</div></a></li>"
    )


@register.simple_tag(takes_context=True)
def product_cards(context: template.Context, cards: list[Card], eager: int = 4) -> str:
    """``<li>`` cards; images after the first ``eager`` load lazily (below the fold)."""
    language = str(context.get("lang", "en"))
    return mark_safe(  # noqa: S308 - built from escaped values above
        "".join(_card_html(card, language, i >= eager) for i, card in enumerate(cards))
    )


@register.filter
def local_datetime(value: Any, language: Any) -> str:
    """``{{ order.date|local_datetime:lang }}``: Centra's date and time as the language writes
    them (CLDR); anything unreadable as it came."""
    return localnames.datetime_text(str(value or ""), str(language or "en"))


@register.filter
def local_country(address: Any, language: Any) -> str:
    """``{{ order.address|local_country:lang }}``: the address's country by its name in the
    language (CLDR), else Centra's ``countryName``, else its code."""
    if not isinstance(address, Mapping):
        return ""
    code = str(address.get("country") or "")
    centra_name = str(address.get("countryName") or "")
    if not code:
        return centra_name
    return localnames.country_name(code, str(language or "en"), centra_name)


@register.filter
def country_option(option: Any, language: Any) -> str:
    """``{{ o|country_option:lang }}``: a country choice of a form (Centra names it in its main
    language) by its name in the page's language."""
    code = str(getattr(option, "value", "") or "")
    centra_name = str(getattr(option, "label", "") or "")
    return localnames.country_name(code, str(language or "en"), centra_name)


@register.simple_tag
def facet_links(facet: Facet) -> str:
    """The ``<li>`` links of one facet: following one adds or removes that value."""
    out = []
    for v in facet.values:
        if facet.field == "colour":
            mark = f'<span class="dot" style="background:{escape(v.hex)}"></span>'
        else:
            mark = '<span class="box" aria-hidden="true"></span>'
        selected = ' selected" aria-current="true' if v.selected else ""
        out.append(
            f'<li><a class="facet-link{selected}" href="{escape(v.url)}" rel="nofollow">{mark}'
            f'<span class="facet-label">{escape(v.label)}</span> '
            f'<span class="facet-count">{v.count}</span></a></li>'
        )
    return mark_safe("".join(out))  # noqa: S308 - built from escaped values


@register.simple_tag
def country_options(countries: list[CountryOption], chosen: str) -> str:
    return mark_safe(  # noqa: S308 - built from escaped values
        "".join(
            f'<option value="{escape(c.code)}"{" selected" if c.code == chosen else ""}>'
            f"{escape(c.name)} ({escape(c.currency)})</option>"
            for c in countries
        )
    )


def _size_button(
    cell: SizeCell, label: str, language: str, priced: bool, *, note: bool = True
) -> str:
    """One size: without JavaScript a plain form post of that item to the bag (``/cart/add``,
    which then shows the bag); shop.js turns it into a choice for the "Add to bag" button."""
    sold_out = translate(language, "Sold out")
    disabled = " disabled" if cell.sold_out or not priced else ""
    small = f"<small>{escape(sold_out)}</small>" if cell.sold_out and note else ""
    aria = escape(cell.name + (f" \u2013 {sold_out}" if cell.sold_out else ""))
    return (
        f'<button type="submit" class="size{" sold-out" if cell.sold_out else ""}" '
        f'data-item="{escape(cell.item)}" '
        f'name="item" value="{escape(cell.item)}"{disabled} '
        f'aria-label="{aria}">{escape(label)}{small}</button>'
    )


@register.simple_tag(takes_context=True)
def size_picker(context: template.Context, table: ItemTable | None, priced: bool) -> str:
    """Centra's item table as a size picker: a row of sizes, or a grid (e.g. waist x length)
    when the table has two dimensions. Sold-out sizes are shown, crossed out and disabled."""
    if table is None:
        return ""
    language = str(context.get("lang", "en"))
    if table.one_dimensional:
        cells = [c for _, line in table.rows for c in line if c is not None]
        buttons = "".join(_size_button(c, c.name or "\u2013", language, priced) for c in cells)
        return mark_safe(f'<div class="size-row">{buttons}</div>')  # noqa: S308 - escaped
    head = "".join(f'<th scope="col">{escape(x)}</th>' for x in table.columns)
    rows = []
    for label, row in table.rows:
        # A cell shows its column's size (the row's is beside it); a sold-out one is crossed
        # out and hatched, with the word in its label and in the key below (it has no room).
        tds = "".join(
            "<td>"
            + (_size_button(c, x, language, priced, note=False) if c is not None else "")
            + "</td>"
            for x, c in zip(table.columns, row, strict=False)
        )
        rows.append(f'<tr><th scope="row">{escape(label)}</th>{tds}</tr>')
    sold_out = any(c is not None and c.sold_out for _, row in table.rows for c in row)
    key = (
        f'<p class="size-legend"><span class="size-key" aria-hidden="true"></span>'
        f"{escape(translate(language, 'Sold out'))}</p>"
        if sold_out
        else ""
    )
    return mark_safe(  # noqa: S308 - built from escaped values
        f'<table class="size-table"><thead><tr><th></th>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table>{key}"
    )
