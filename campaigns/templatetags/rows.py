"""The rows of campaigns.rows in templates: {% review_row connection_request %} (Review),
{% request_row row %} (the campaign page), {% campaign_row campaign %} (Home, the campaign list),
{% mark_buttons r origin %} (an invitation's page), {% sender_card card %} (Home).

A row's renderer reverses its URLs once per template render, not once per row: it is kept in
the render context, which lives as long as one render of the page (or of the one row htmx asks for).
"""

from django import template
from django.utils.safestring import SafeString

from .. import rows

register = template.Library()


def renderer(context, key: str, make):
    if key not in context.render_context:
        context.render_context[key] = make()
    return context.render_context[key]


@register.simple_tag(takes_context=True)
def review_row(context, connection_request) -> SafeString:
    """Needs in the context: `row_message` when redrawn after a mark (else none)."""
    render = renderer(context, "review_rows", rows.ReviewRows)
    return render(connection_request, context.get("row_message", ""))


@register.simple_tag(takes_context=True)
def request_row(context, row) -> SafeString:
    """Needs in the context: `now`, `can_change`, `show_variants`; `row_message` after a mark."""
    render = renderer(context, "request_rows", lambda: rows.RequestRows(
        now=context["now"], can_change=bool(context.get("can_change")), show_variants=bool(context.get("show_variants")),
    ))
    return render(row, context.get("row_message", ""))


@register.simple_tag(takes_context=True)
def mark_buttons(context, row, origin: str, with_reason: bool = False) -> SafeString:
    """On an invitation's own page; `with_reason`: a reason field for the do-not-contact list,
    its placeholder the reason given when it is left empty."""
    placeholder = row.default_do_not_contact_reason(context["user"]) if with_reason else None
    return rows.MarkButtons(origin)(row, placeholder)


@register.simple_tag(takes_context=True)
def campaign_row(context, campaign) -> SafeString:
    return renderer(context, "campaign_rows", rows.CampaignRows)(campaign)


@register.simple_tag
def sender_card(card) -> SafeString:
    return rows.sender_card(card)
