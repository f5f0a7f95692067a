"""The simulated OutX browser extension: it performs each task once its delay has passed.

No background thread: whoever looks (a status read, the control page, a new invitation that
must be counted) first calls `complete_due_tasks()`. The extension is taken to have acted at
the task's `complete_after`, however late someone looks, so results do not depend on when.
Each team has its own extension, acting on its own LinkedIn account with its own switches.

Chance is decided by hashing, not by a random draw: the same task or person always gets the
same outcome for a given rate, and rates 0 and 1 are exact (a hash share is in [0, 1)).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
from typing import Any

from django.db import transaction
from django.db.models import Min
from django.utils import timezone

from campaigns.notes import js_trim

from .models import Delivery, SandboxSettings, SandboxTask, SentMessage

PROFILE_URL = "https://www.linkedin.com/in/{}"
NOT_SENT_REASON = "LinkedIn did not offer a Connect button for this profile (simulated by the sandbox)."
NOT_A_CONNECTION_REASON = "The recipient is not a 1st-degree connection of the sending account."

FIRST_NAMES = ["Ada", "Grace", "Alan", "Katherine", "Linus", "Barbara", "Edsger", "Frances", "Donald", "Radia"]
LAST_NAMES = ["Lovelace", "Hopper", "Turing", "Johnson", "Torvalds", "Liskov", "Dijkstra", "Allen", "Knuth", "Perlman"]
TITLES = ["Head of Sales", "CTO", "Engineering Manager", "Founder", "VP Marketing", "Product Lead", "Data Scientist"]
COMPANIES = ["Acme", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"]
LOCATIONS = ["London, England", "Berlin, Germany", "Paris, France", "New York, NY", "Toronto, Canada", "Lisbon, Portugal"]


def hash_share(*parts: object) -> float:
    """A number in [0, 1) fixed by `parts`."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def _pick(options: list[str], *parts: object) -> str:
    return options[int(hash_share(*parts) * len(options))]


def fake_name(seed: str) -> str:
    return f"{_pick(FIRST_NAMES, 'first', seed)} {_pick(LAST_NAMES, 'last', seed)}"


# A trailing token of a slug that is LinkedIn's disambiguating suffix, not a name: it has a
# digit (`7a1b2c`), or is a long run of hex digits.
ID_TOKEN = re.compile(r".*\d.*|[0-9a-f]{8,}")
# A single-token slug this long is a name run together (`williamhgates`), not a first name.
LONGEST_SINGLE_NAME = 10


def names_from_slug(slug: str) -> tuple[str, str]:
    """The first and last name a public slug shows: `sabine-krueger-7a1b2c` is Sabine Krueger.

    LinkedIn makes slugs from the member's names, then adds a suffix when the name is taken.
    A single short token is a first name, with a last name chosen by hash; a slug with no
    name left in it (`williamhgates`, `x-12345`) gets a whole made-up name."""
    tokens = [token for token in slug.split("-") if token]
    while tokens and ID_TOKEN.fullmatch(tokens[-1]):
        tokens.pop()
    tokens = [token for token in tokens if token.isalpha()]
    if len(tokens) >= 2:
        return tokens[0].capitalize(), " ".join(token.capitalize() for token in tokens[1:])
    if len(tokens) == 1 and 2 <= len(tokens[0]) <= LONGEST_SINGLE_NAME:
        return tokens[0].capitalize(), _pick(LAST_NAMES, "last", slug)
    first, last = fake_name(slug).split(" ", 1)
    return first, last


def member_urn(slug: str) -> str:
    """The profile URN of the member with this public slug: the same for fetch-profile,
    search-profiles and the connections list."""
    member_id = base64.urlsafe_b64encode(hashlib.sha256(slug.encode()).digest()).decode()[:34]
    return f"urn:li:fsd_profile:ACoAA{member_id}"


def fake_profile(profile_slug: str) -> dict[str, Any]:
    """The profile fetch-profile reports: always the same for the same slug, and named as the
    slug names it. [ours] `first_name`, `last_name`, `company` and `title` beside OutX's fields."""
    slug = profile_slug.strip().lower()  # LinkedIn's slugs ignore case
    first, last = names_from_slug(slug)
    title, company = _pick(TITLES, "title", slug), _pick(COMPANIES, "company", slug)
    return {
        "profile_urn": member_urn(slug),
        "name": f"{first} {last}",
        "first_name": first,
        "last_name": last,
        "headline": f"{title} at {company}",
        "company": company,
        "title": title,
        "location": _pick(LOCATIONS, "location", slug),
        "profile_url": PROFILE_URL.format(slug),
        "connections": 50 + int(hash_share("connections", slug) * 450),
        "followers": 50 + int(hash_share("followers", slug) * 5000),
    }


# --- search-profiles ---------------------------------------------------------------------------

SEARCH_TOTAL_MAX = 180
# A few of LinkedIn's geographic URN ids, so a search by place finds people there.
GEO_PLACES = {
    "103644278": ["New York, NY", "San Francisco, CA", "Austin, TX", "Chicago, IL"],  # United States
    "101165590": ["London, England", "Manchester, England", "Edinburgh, Scotland"],  # United Kingdom
    "101282230": ["Berlin, Germany", "Munich, Germany", "Hamburg, Germany"],  # Germany
    "105015875": ["Paris, France", "Lyon, France"],  # France
    "100364837": ["Lisbon, Portugal", "Porto, Portugal"],  # Portugal
    "101174742": ["Toronto, Canada", "Vancouver, Canada"],  # Canada
}


def _as_typed(text: str) -> str:
    """A filter's value as a name or company shows it: its words capitalised where typed lower."""
    return " ".join(word if not word.islower() else word[:1].upper() + word[1:] for word in text.split())


def _slug_part(text: str) -> str:
    """A name as a slug spells it: lower case, its words (letters only) joined by hyphens."""
    words = ["".join(char for char in word if char.isalpha()) for word in re.split(r"[\s-]+", text.lower())]
    return "-".join(word for word in words if word) or "member"


def search_query_key(task_input: dict[str, Any]) -> str:
    """What makes two searches the same query: the filters, compared without case."""
    parts = [f"{name}={str(task_input.get(name) or '').strip().lower()}" for name in
             ("keywords", "title", "company", "first_name", "last_name")]
    parts.append("geo=" + ",".join(sorted(task_input.get("geo_urn") or [])))
    return "|".join(parts)


def found_person(task_input: dict[str, Any], key: str, position: int) -> dict[str, Any]:
    """The person at `position` (from 0) of the query's results: the filters' values where the
    query gives them, the rest chosen by hash. Their slug names them, so fetch-profile of that
    slug reports the same URN and names."""
    seed = f"{key}#{position}"
    first = _as_typed(str(task_input.get("first_name") or "")) or _pick(FIRST_NAMES, "first", seed)
    last = _as_typed(str(task_input.get("last_name") or "")) or _pick(LAST_NAMES, "last", seed)
    # A suffix with a digit, as LinkedIn gives a taken name: names_from_slug drops it.
    suffix = f"{int(hash_share('suffix', seed) * 900) + 100}{hashlib.sha256(seed.encode()).hexdigest()[:3]}"
    slug = f"{_slug_part(first)}-{_slug_part(last)}-{suffix}"
    # fetch-profile reads the names back from the slug: the same, but for where it splits a
    # name of several words ("Mary Ann Lee" is Mary, Ann Lee), which a slug cannot tell.
    typed_title = str(task_input.get("title") or "").strip()
    # A title keeps its small words as typed ("Head of Sales"); only a wholly lower-case one
    # gets a capital first letter.
    title = (typed_title[:1].upper() + typed_title[1:] if typed_title.islower() else typed_title) or _pick(TITLES, "title", seed)
    company = _as_typed(str(task_input.get("company") or "")) or _pick(COMPANIES, "company", seed)
    headline = f"{title} at {company}"
    keywords = str(task_input.get("keywords") or "").strip()
    if keywords and keywords.lower() not in f"{first} {last} {headline}".lower():
        headline = f"{headline} · {keywords}"
    geo = task_input.get("geo_urn") or []
    places = [place for geo_id in geo for place in GEO_PLACES.get(geo_id, [f"Region {geo_id}"])]
    return {
        "profile_urn": member_urn(slug),
        "profile_url": PROFILE_URL.format(slug),
        "first_name": first,
        "last_name": last,
        "name": f"{first} {last}",
        "headline": headline,
        "company": company,
        "title": title,
        "location": _pick(places or LOCATIONS, "location", seed),
    }


def _search_profiles_output(task_input: dict[str, Any]) -> dict[str, Any]:
    # [ours] OutX does not document this output; the shape below is the sandbox's choice.
    # {"profiles": [{"profile_urn", "profile_url", "first_name", "last_name", "name", "headline",
    #                "company", "title", "location"}], "total", "start", "count"}
    key = search_query_key(task_input)
    total = int(hash_share("total", key) * (SEARCH_TOTAL_MAX + 1))
    start, count = task_input.get("start", 0), task_input.get("count", 25)
    people = [found_person(task_input, key, position) for position in range(start, min(start + count, total))]
    return {"profiles": people, "total": total, "start": start, "count": count}


def accepts_invitation(profile_urn: str, team: SandboxSettings) -> bool:
    return hash_share("accepts", profile_urn) < team.acceptance_rate


def connections_as_of(moment: dt.datetime, team: SandboxSettings) -> list[dict[str, Any]]:
    """The 1st-degree connections of `team`'s LinkedIn account: the invitees it delivered to
    who accepted by `moment`. Another team's invitations are another account's.

    An invitee accepts (or not, by a hash of their URN) acceptance_delay_seconds after the
    team's first invitation reached them. Newest connection first.
    """
    delay = dt.timedelta(seconds=team.acceptance_delay_seconds)
    first_deliveries = (
        Delivery.objects.of_team(team)
        .filter(delivered_at__lte=moment - delay)
        .order_by()
        .values("profile_urn")
        .annotate(first_delivered_at=Min("delivered_at"))
    )
    accepted = {
        row["profile_urn"]: row["first_delivered_at"] + delay
        for row in first_deliveries
        if accepts_invitation(row["profile_urn"], team)
    }
    # A profile fetched through the sandbox, by any team, keeps the name and URL fetch-profile
    # gave it: a profile is public, the same whoever looks.
    known_profiles = {
        task.task_output["profile_urn"]: task.task_output
        for task in SandboxTask.objects.filter(
            task_type=SandboxTask.TaskType.FETCH_PROFILE,
            status=SandboxTask.Status.COMPLETED,
            task_output__profile_urn__in=list(accepted),
        )
    }
    connections = []
    for urn, connected_at in accepted.items():
        profile = known_profiles.get(urn) or {
            "name": fake_name(urn),
            "profile_url": PROFILE_URL.format(urn.removeprefix("urn:li:fsd_profile:")),
            "headline": "",
        }
        connections.append({
            "profile_urn": urn,
            "name": profile["name"],
            "headline": profile.get("headline", ""),
            "profile_url": profile["profile_url"],
            "connected_at": connected_at.isoformat(),
        })
    connections.sort(key=lambda c: c["connected_at"], reverse=True)
    return connections


def is_connection(profile_urn: str, moment: dt.datetime, team: SandboxSettings) -> bool:
    return any(c["profile_urn"] == profile_urn for c in connections_as_of(moment, team))


def _fetch_connections_output(task_input: dict[str, Any], moment: dt.datetime, team: SandboxSettings) -> dict:
    # [ours] OutX does not document this output; the shape below is the sandbox's choice.
    # {"connections": [{"profile_urn", "name", "headline", "profile_url", "connected_at"}], "total", "start", "count"}
    connections = connections_as_of(moment, team)
    keyword = (task_input.get("keyword") or "").strip().lower()
    if keyword:
        connections = [c for c in connections if keyword in f"{c['name']} {c['headline']}".lower()]
    if task_input.get("sort_type") != "RECENTLY_ADDED":
        connections.sort(key=lambda c: c["name"])
    start, count = task_input.get("start", 0), task_input.get("count", 40)
    return {"connections": connections[start : start + count], "total": len(connections), "start": start, "count": count}


def perform(task: SandboxTask) -> tuple[str, Any]:
    """What the task's team's extension reports for `task`: (status, task_output)."""
    team = task.team
    done, failed = SandboxTask.Status.COMPLETED, SandboxTask.Status.FAILED
    match task.task_type:
        case SandboxTask.TaskType.SEND_CONNECTION_REQUEST:
            if hash_share("not-sent", task.id) < team.not_sent_rate:
                return done, {"sent": False, "reason": NOT_SENT_REASON}
            return done, {"sent": True}
        case SandboxTask.TaskType.FETCH_PROFILE:
            return done, fake_profile(task.task_input["profile_slug"])
        case SandboxTask.TaskType.FETCH_CONNECTIONS:
            return done, _fetch_connections_output(task.task_input, task.complete_after, team)
        case SandboxTask.TaskType.SEARCH_PROFILES:
            return done, _search_profiles_output(task.task_input)
        case SandboxTask.TaskType.SEND_MESSAGE:
            if is_connection(task.task_input["recipient_urn"], task.complete_after, team):
                return done, {"sent": True}
            return failed, {"sent": False, "reason": NOT_A_CONNECTION_REASON}
    return failed, {"reason": f"Unknown task type {task.task_type!r}."}


def complete_task(task: SandboxTask) -> bool:
    """Complete one pending task, as its team's settings say, and log what it delivered. False
    if someone else completed it first.

    The conditional UPDATE (only while still pending) lets exactly one of two concurrent
    readers win, and the log row is written in the same transaction as the status.
    """
    status, output = perform(task)
    with transaction.atomic():
        won = SandboxTask.objects.filter(pk=task.pk, status=SandboxTask.Status.PENDING).update(
            status=status, task_output=output
        )
        if not won or status != SandboxTask.Status.COMPLETED or output.get("sent") is not True:
            return bool(won)
        if task.task_type == SandboxTask.TaskType.SEND_CONNECTION_REQUEST:
            Delivery.objects.create(
                task=task, profile_urn=task.task_input["profile_urn"],
                note=js_trim(task.task_input.get("note") or ""), delivered_at=task.complete_after,
            )
        elif task.task_type == SandboxTask.TaskType.SEND_MESSAGE:
            SentMessage.objects.create(
                task=task, recipient_urn=task.task_input["recipient_urn"],
                message=task.task_input["message"], sent_at=task.complete_after,
            )
    return True


def complete_due_tasks(now: dt.datetime | None = None) -> int:
    """Complete every team's tasks whose time has come, oldest first (a message may depend on
    an earlier invitation), each as its own team's settings say. Returns how many this call
    completed."""
    now = now or timezone.now()
    due = SandboxTask.objects.due(now).select_related("team").order_by("complete_after", "created_at")
    return sum(complete_task(task) for task in due)
