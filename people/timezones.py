"""Time zones: the short list people choose from, the zone a person sees times in, and how a
moment set by a sender's working hours is said.

Times are stored in UTC. Each request shows them in the viewer's zone (people.middleware
activates it): their own choice, or the team's, the first sender's. A sender's pacing (working
hours, the day its daily cap counts from) stays in the sender's own zone; only what is shown
moves, and a moment that comes from those hours names the sender's zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo
from collections.abc import Callable
from pathlib import Path

from asgiref.local import Local
from django.conf import settings
from django.utils import timezone

# The areas of the tz database's canonical Area/City names; not Etc/, US/, Canada/, posix/…
AREAS = ("Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific")


@functools.cache
def canonical_time_zones() -> tuple[str, ...]:
    """Every canonical Area/City zone, sorted: the zones of the tz database's zone.tab (one or
    more per country, no old alias such as Asia/Calcutta), or without that file, every
    available name in an area. Never Factory, localtime, Etc/GMT+3, US/Eastern, posix/… ."""
    available = zoneinfo.available_timezones()
    listed = set()
    for directory in zoneinfo.TZPATH:
        table = Path(directory) / "zone.tab"
        if table.is_file():
            for line in table.read_text(encoding="utf-8").splitlines():
                columns = line.split("\t")
                if line and not line.startswith("#") and len(columns) >= 3:
                    listed.add(columns[2])
            break
    names = listed or {name for name in available if name.split("/")[0] in AREAS}
    return tuple(sorted(name for name in names & available if name.split("/")[0] in AREAS))


def city_label(name: str) -> str:
    """"America/Argentina/Buenos_Aires" as a person reads it in its area's group."""
    return " / ".join(name.split("/")[1:]).replace("_", " ")


def time_zone_choices(current: str = "") -> list:
    """The choices of a time-zone <select>: UTC, then the canonical zones grouped by area
    (<optgroup>). A saved value outside the list (an old alias, Etc/GMT+3) stays choosable,
    so saving a form never changes it behind the person's back."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for name in canonical_time_zones():
        groups.setdefault(name.split("/")[0], []).append((name, city_label(name)))
    choices: list = [("UTC", "UTC")]
    if current and current != "UTC" and current not in canonical_time_zones():
        choices.append(("Saved before", [(current, current)]))
    choices.extend(groups.items())
    return choices


def team_time_zone_name() -> str:
    """The team's time zone: the first sender's (`Sender.get()`), without creating one."""
    from campaigns.models import Sender  # campaigns imports this module

    return Sender.objects.order_by("pk").values_list("time_zone", flat=True).first() or settings.TIME_ZONE


def as_zone(name: str) -> zoneinfo.ZoneInfo:
    """The zone of that name; UTC for a name this machine's tz database no longer has."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


class ViewerZone(dt.tzinfo):
    """A person's time zone, looked up (one query) the first time a time is shown: a request
    that shows none, such as a poll answered "nothing changed" or a redirect, costs nothing.
    Behaves as the ZoneInfo it stands for; `str()` is its name, as Django reads it."""

    def __init__(self, find: Callable[[], tuple[str, bool]]):
        self._find = find

    @functools.cached_property
    def found(self) -> tuple[str, bool]:
        return self._find()

    @property
    def key(self) -> str:
        return self.found[0]

    @property
    def is_own(self) -> bool:
        """Whether the person chose it (else it is the team's)."""
        return self.found[1]

    @functools.cached_property
    def zone(self) -> zoneinfo.ZoneInfo:
        return as_zone(self.key)

    def utcoffset(self, moment):
        return self.zone.utcoffset(moment)

    def dst(self, moment):
        return self.zone.dst(moment)

    def tzname(self, moment):
        return self.zone.tzname(moment)

    def fromutc(self, moment: dt.datetime) -> dt.datetime:
        return self.zone.fromutc(moment.replace(tzinfo=self.zone)).replace(tzinfo=self)

    def __str__(self) -> str:
        return self.key

    def __repr__(self) -> str:
        return f"ViewerZone({self.key!r})" if "found" in self.__dict__ else "ViewerZone(not looked up yet)"


# The zone of the person this request is for; unset in the worker and for anonymous pages.
_viewer = Local()


def show_times_in(zone: str | ViewerZone | None) -> None:
    """Show this request's times in `zone`, a name or a person's ViewerZone (None: the site's
    UTC, for nobody in particular)."""
    if zone is None:
        timezone.deactivate()
        _viewer.zone = None
    else:
        timezone.activate(as_zone(zone) if isinstance(zone, str) else zone)
        _viewer.zone = zone


def viewer_zone_name() -> str | None:
    """The zone of the person this request shows times to; None when there is none (the worker)."""
    zone = getattr(_viewer, "zone", None)
    return zone if zone is None or isinstance(zone, str) else zone.key


def shown_zone() -> zoneinfo.ZoneInfo:
    """The zone this request shows times in, as a plain ZoneInfo: for a streamed export, whose
    rows are written after the request (and its zone) is gone."""
    return as_zone(timezone.get_current_timezone_name())


def local_moment(moment: dt.datetime, sender_zone: str) -> dt.datetime:
    """`moment` on the viewer's clock; on the sender's where there is no viewer (the worker)."""
    return moment.astimezone(as_zone(viewer_zone_name() or sender_zone))


def sender_moment(moment: dt.datetime, sender_zone: str) -> str:
    """A moment that a sender's working hours or caps set ("sending resumes …"), for a person:
    in the zone this request shows times in, naming the sender's zone, whose clock the
    working hours follow. In the worker, which has no viewer, that is the sender's zone."""
    viewer_name = viewer_zone_name() or sender_zone
    sender_local = moment.astimezone(as_zone(sender_zone))
    if viewer_name == sender_zone:
        return f"{sender_local:%a %d %b %H:%M} ({sender_zone} time)"
    viewer_local = moment.astimezone(as_zone(viewer_name))
    return f"{viewer_local:%a %d %b %H:%M} your time ({sender_local:%H:%M} {sender_zone}, the sender's time)"
