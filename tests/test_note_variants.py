"""Note variants: a campaign's queued invitations are spread evenly over its variants (up to
three), each variant's acceptance is counted apart, and a variant added later gets its share of
what is still queued."""

import pytest

from campaigns.models import Campaign, ConnectionRequest

pytestmark = pytest.mark.django_db

State = ConnectionRequest.State


def test_variants_are_assigned_evenly_and_counted_apart(make_campaign):
    campaign = make_campaign(
        "AB", Campaign.State.DRAFT, note_template="A: hi {first_name}",
        note_template_b="B: hello {first_name}", note_template_c="C: hey {first_name}", prospects=10,
    )
    by_variant = {label: list(campaign.requests.filter(variant=label)) for label in "ABC"}
    assert sorted(len(requests) for requests in by_variant.values()) == [3, 3, 4]
    assert all(r.note.startswith(f"{label}: ") for label, requests in by_variant.items() for r in requests)
    sent_a, accepted_a = by_variant["A"][0], by_variant["A"][1]
    ConnectionRequest.objects.filter(pk=sent_a.pk).update(state=State.SENT)
    ConnectionRequest.objects.filter(pk=accepted_a.pk).update(state=State.ACCEPTED)
    stats = {row["variant"]: row for row in campaign.variant_stats()}
    assert (stats["A"]["sent"], stats["A"]["accepted"], stats["A"]["rate"]) == (2, 1, 0.5)
    assert stats["B"]["rate"] is None


def test_a_variant_added_later_gets_its_share_of_the_queue(make_campaign):
    campaign = make_campaign("Later B", Campaign.State.DRAFT, note_template="A {first_name}", prospects=6)
    first = campaign.requests.order_by("id").first()
    ConnectionRequest.objects.filter(pk=first.pk).update(state=State.SENT)  # already out: keeps A
    campaign.note_template_b = "B {first_name}"
    campaign.save()
    campaign.render_queued_notes()
    assert sorted(campaign.requests.values_list("variant", flat=True)) == ["A", "A", "A", "B", "B", "B"]
    assert campaign.requests.get(pk=first.pk).variant == "A"
    assert all(r.note.startswith(r.variant) for r in campaign.requests.filter(state=State.QUEUED))
