"""The charts of campaigns.charts in templates: {% progress_bar counts %}, a campaign's progress
from its RequestCounts (the campaign list, Home, the campaign page); {% daily_chart bars %}, Home's
30 days."""

from django import template
from django.utils.safestring import SafeString

from .. import charts
from ..models import RequestCounts

register = template.Library()


@register.simple_tag
def progress_bar(counts: RequestCounts) -> SafeString:
    return charts.progress_of(counts)


@register.simple_tag
def daily_chart(bars: list[charts.Bar]) -> SafeString:
    return charts.daily_chart(bars)
