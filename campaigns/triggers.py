"""Per-campaign counters and a version, kept by the database itself.

`RequestTally` counts a campaign's requests per (sender, note variant, state); `Campaign.version` grows with
every insert, update and delete of one of its requests or follow-ups, with every change to one
of its prospects, and with a change of state of one of its senders. Triggers keep both, in the
same transaction as the write, whichever code path writes (the ORM's save, update, bulk_create,
bulk_update, raw SQL): so the campaign page's poll reads one row, and its counts a few.

PostgreSQL: statement-level triggers with transition tables, so a bulk write costs one grouped
upsert, not one per row; the campaigns are locked in id order first, so two writers never take
them in opposite orders within one statement. SQLite: row-level triggers (one writer at a time).

They are installed after every `migrate` (post_migrate, CampaignsConfig), never inside a
migration: on SQLite they are dropped before migrating (pre_migrate), since SQLite rebuilds a
table to alter most of its columns, and a rebuild either drops a table's triggers or fails on
those that name the table being rebuilt. `install()` creates what is missing and, if anything
was, counts the tallies afresh from the rows.
"""

from __future__ import annotations

from django.db import connections

BACKFILL = """
INSERT INTO campaigns_requesttally (campaign_id, sender_key, variant, state, n)
SELECT campaign_id, COALESCE(sender_id, 0), variant, state, COUNT(*)
FROM campaigns_connectionrequest GROUP BY campaign_id, COALESCE(sender_id, 0), variant, state
"""
BACKFILL_FOLLOWUPS = """
INSERT INTO campaigns_requesttally (campaign_id, sender_key, variant, state, n)
SELECT r.campaign_id, 0, '', 'followup:' || f.state, COUNT(*)
FROM campaigns_followup f JOIN campaigns_connectionrequest r ON r.id = f.request_id
GROUP BY r.campaign_id, f.state
"""

# --- PostgreSQL ---------------------------------------------------------------------------------

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION campaigns_bump_campaigns(ids bigint[]) RETURNS void LANGUAGE sql AS $$
        WITH locked AS (
            SELECT id FROM campaigns_campaign WHERE id = ANY(ids) ORDER BY id FOR NO KEY UPDATE
        )
        UPDATE campaigns_campaign SET version = version + 1 WHERE id IN (SELECT id FROM locked);
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION campaigns_request_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM campaigns_bump_campaigns(ARRAY(SELECT DISTINCT campaign_id::bigint FROM new_rows));
            INSERT INTO campaigns_requesttally AS t (campaign_id, sender_key, variant, state, n)
                SELECT campaign_id, COALESCE(sender_id, 0), variant, state, COUNT(*) FROM new_rows
                GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
                ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM campaigns_bump_campaigns(ARRAY(SELECT DISTINCT campaign_id::bigint FROM old_rows));
            UPDATE campaigns_requesttally AS t SET n = t.n - gone.n
                FROM (
                    SELECT campaign_id, COALESCE(sender_id, 0) AS sender_key, variant, state, COUNT(*) AS n
                    FROM old_rows GROUP BY 1, 2, 3, 4
                ) AS gone
                WHERE t.campaign_id = gone.campaign_id AND t.sender_key = gone.sender_key
                    AND t.variant = gone.variant AND t.state = gone.state;
        ELSE
            PERFORM campaigns_bump_campaigns(ARRAY(
                SELECT campaign_id::bigint FROM old_rows UNION SELECT campaign_id::bigint FROM new_rows
            ));
            INSERT INTO campaigns_requesttally AS t (campaign_id, sender_key, variant, state, n)
                SELECT campaign_id, sender_key, variant, state, SUM(d) FROM (
                    SELECT campaign_id, COALESCE(sender_id, 0) AS sender_key, variant, state, -1 AS d FROM old_rows
                    UNION ALL
                    SELECT campaign_id, COALESCE(sender_id, 0), variant, state, 1 FROM new_rows
                ) AS moves
                GROUP BY 1, 2, 3, 4 HAVING SUM(d) <> 0 ORDER BY 1, 2, 3, 4
                ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        END IF;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER campaigns_request_tally_insert AFTER INSERT ON campaigns_connectionrequest
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_request_tally()""",
    """CREATE TRIGGER campaigns_request_tally_update AFTER UPDATE ON campaigns_connectionrequest
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_request_tally()""",
    """CREATE TRIGGER campaigns_request_tally_delete AFTER DELETE ON campaigns_connectionrequest
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_request_tally()""",
    # A follow-up shows on its invitation's row, and is counted per campaign and state as
    # "followup:<state>" (sender 0, no variant).
    """
    CREATE OR REPLACE FUNCTION campaigns_followup_tally() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            PERFORM campaigns_bump_campaigns(ARRAY(
                SELECT DISTINCT r.campaign_id::bigint FROM new_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
            ));
            INSERT INTO campaigns_requesttally AS t (campaign_id, sender_key, variant, state, n)
                SELECT r.campaign_id, 0, '', 'followup:' || f.state, COUNT(*)
                FROM new_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
                GROUP BY 1, 4 ORDER BY 1, 4
                ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        ELSIF TG_OP = 'DELETE' THEN
            PERFORM campaigns_bump_campaigns(ARRAY(
                SELECT DISTINCT r.campaign_id::bigint FROM old_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
            ));
            UPDATE campaigns_requesttally AS t SET n = t.n - gone.n
                FROM (
                    SELECT r.campaign_id, 'followup:' || f.state AS state, COUNT(*) AS n
                    FROM old_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id GROUP BY 1, 2
                ) AS gone
                WHERE t.campaign_id = gone.campaign_id AND t.sender_key = 0 AND t.variant = '' AND t.state = gone.state;
        ELSE
            PERFORM campaigns_bump_campaigns(ARRAY(
                SELECT DISTINCT r.campaign_id::bigint FROM new_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
            ));
            INSERT INTO campaigns_requesttally AS t (campaign_id, sender_key, variant, state, n)
                SELECT campaign_id, 0, '', state, SUM(d) FROM (
                    SELECT r.campaign_id, 'followup:' || f.state AS state, -1 AS d
                    FROM old_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
                    UNION ALL
                    SELECT r.campaign_id, 'followup:' || f.state, 1
                    FROM new_rows f JOIN campaigns_connectionrequest r ON r.id = f.request_id
                ) AS moves
                GROUP BY 1, 4 HAVING SUM(d) <> 0 ORDER BY 1, 4
                ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = t.n + EXCLUDED.n;
        END IF;
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER campaigns_followup_tally_insert AFTER INSERT ON campaigns_followup
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_followup_tally()""",
    """CREATE TRIGGER campaigns_followup_tally_update AFTER UPDATE ON campaigns_followup
       REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_followup_tally()""",
    """CREATE TRIGGER campaigns_followup_tally_delete AFTER DELETE ON campaigns_followup
       REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_followup_tally()""",
    # A prospect's names and look-up show on its rows, in every campaign that has it.
    """
    CREATE OR REPLACE FUNCTION campaigns_prospect_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM campaigns_bump_campaigns(ARRAY(
            SELECT DISTINCT r.campaign_id::bigint FROM campaigns_connectionrequest r
            WHERE r.prospect_id IN (SELECT id FROM new_rows)
        ));
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER campaigns_prospect_bump_update AFTER UPDATE ON campaigns_prospect
       REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION campaigns_prospect_bump()""",
    # A sender's state shows on the page of every campaign that sends from it; its other
    # changes (its next slot, with every submission) would bump them all far too often.
    """
    CREATE OR REPLACE FUNCTION campaigns_sender_bump() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM campaigns_bump_campaigns(ARRAY(
            SELECT campaign_id::bigint FROM campaigns_campaign_senders WHERE sender_id = NEW.id
        ));
        RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER campaigns_sender_bump_update AFTER UPDATE ON campaigns_sender FOR EACH ROW
       WHEN (OLD.state IS DISTINCT FROM NEW.state OR OLD.state_cause IS DISTINCT FROM NEW.state_cause
             OR OLD.name IS DISTINCT FROM NEW.name OR OLD.retired_at IS DISTINCT FROM NEW.retired_at)
       EXECUTE FUNCTION campaigns_sender_bump()""",
]

# --- SQLite -------------------------------------------------------------------------------------

SQLITE_BUMP = "UPDATE campaigns_campaign SET version = version + 1 WHERE id = {campaign};"
SQLITE_ADD = """
    INSERT INTO campaigns_requesttally (campaign_id, sender_key, variant, state, n)
    VALUES (NEW.campaign_id, COALESCE(NEW.sender_id, 0), NEW.variant, NEW.state, 1)
    ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = n + 1;
"""
SQLITE_REMOVE = """
    UPDATE campaigns_requesttally SET n = n - 1
    WHERE campaign_id = OLD.campaign_id AND sender_key = COALESCE(OLD.sender_id, 0)
        AND variant = OLD.variant AND state = OLD.state;
"""
SQLITE_MOVED = (
    "OLD.state IS NOT NEW.state OR OLD.sender_id IS NOT NEW.sender_id OR OLD.variant IS NOT NEW.variant"
    " OR OLD.campaign_id IS NOT NEW.campaign_id"
)

SQLITE_FOLLOWUP_CAMPAIGN = "(SELECT campaign_id FROM campaigns_connectionrequest WHERE id = {row}.request_id)"
SQLITE_FOLLOWUP_ADD = """
    INSERT INTO campaigns_requesttally (campaign_id, sender_key, variant, state, n)
    SELECT campaign_id, 0, '', 'followup:' || NEW.state, 1 FROM campaigns_connectionrequest WHERE id = NEW.request_id
    ON CONFLICT (campaign_id, sender_key, variant, state) DO UPDATE SET n = n + 1;
"""
SQLITE_FOLLOWUP_REMOVE = f"""
    UPDATE campaigns_requesttally SET n = n - 1
    WHERE campaign_id = {SQLITE_FOLLOWUP_CAMPAIGN.format(row="OLD")} AND sender_key = 0 AND variant = ''
        AND state = 'followup:' || OLD.state;
"""

SQLITE = [
    f"""CREATE TRIGGER campaigns_request_tally_insert AFTER INSERT ON campaigns_connectionrequest BEGIN
        {SQLITE_ADD} {SQLITE_BUMP.format(campaign="NEW.campaign_id")} END""",
    f"""CREATE TRIGGER campaigns_request_tally_delete AFTER DELETE ON campaigns_connectionrequest BEGIN
        {SQLITE_REMOVE} {SQLITE_BUMP.format(campaign="OLD.campaign_id")} END""",
    f"""CREATE TRIGGER campaigns_request_tally_update AFTER UPDATE ON campaigns_connectionrequest
        WHEN {SQLITE_MOVED} BEGIN {SQLITE_REMOVE} {SQLITE_ADD} END""",
    f"""CREATE TRIGGER campaigns_request_version_update AFTER UPDATE ON campaigns_connectionrequest BEGIN
        {SQLITE_BUMP.format(campaign="OLD.campaign_id")}
        UPDATE campaigns_campaign SET version = version + 1
        WHERE id = NEW.campaign_id AND NEW.campaign_id IS NOT OLD.campaign_id; END""",
    f"""CREATE TRIGGER campaigns_followup_tally_insert AFTER INSERT ON campaigns_followup BEGIN
        {SQLITE_FOLLOWUP_ADD} {SQLITE_BUMP.format(campaign=SQLITE_FOLLOWUP_CAMPAIGN.format(row="NEW"))} END""",
    f"""CREATE TRIGGER campaigns_followup_tally_delete AFTER DELETE ON campaigns_followup BEGIN
        {SQLITE_FOLLOWUP_REMOVE} {SQLITE_BUMP.format(campaign=SQLITE_FOLLOWUP_CAMPAIGN.format(row="OLD"))} END""",
    f"""CREATE TRIGGER campaigns_followup_tally_update AFTER UPDATE ON campaigns_followup BEGIN
        {SQLITE_BUMP.format(campaign=SQLITE_FOLLOWUP_CAMPAIGN.format(row="NEW"))} END""",
    f"""CREATE TRIGGER campaigns_followup_moved_update AFTER UPDATE ON campaigns_followup
        WHEN OLD.state IS NOT NEW.state OR OLD.request_id IS NOT NEW.request_id BEGIN
        {SQLITE_FOLLOWUP_REMOVE} {SQLITE_FOLLOWUP_ADD} END""",
    """CREATE TRIGGER campaigns_prospect_bump_update AFTER UPDATE ON campaigns_prospect BEGIN
        UPDATE campaigns_campaign SET version = version + 1
        WHERE id IN (SELECT campaign_id FROM campaigns_connectionrequest WHERE prospect_id = NEW.id); END""",
    """CREATE TRIGGER campaigns_sender_bump_update AFTER UPDATE ON campaigns_sender
        WHEN OLD.state IS NOT NEW.state OR OLD.state_cause IS NOT NEW.state_cause
             OR OLD.name IS NOT NEW.name OR OLD.retired_at IS NOT NEW.retired_at BEGIN
        UPDATE campaigns_campaign SET version = version + 1
        WHERE id IN (SELECT campaign_id FROM campaigns_campaign_senders WHERE sender_id = NEW.id); END""",
]


TRIGGER_NAMES = {
    "campaigns_connectionrequest": (
        "campaigns_request_tally_insert", "campaigns_request_tally_update", "campaigns_request_tally_delete",
    ),
    "campaigns_followup": (
        "campaigns_followup_tally_insert", "campaigns_followup_tally_update", "campaigns_followup_tally_delete",
    ),
    "campaigns_prospect": ("campaigns_prospect_bump_update",),
    "campaigns_sender": ("campaigns_sender_bump_update",),
}
# SQLite's extra triggers: an update's version apart from its move between counts.
SQLITE_ONLY = {
    "campaigns_connectionrequest": ("campaigns_request_version_update",),
    "campaigns_followup": ("campaigns_followup_moved_update",),
}


def statements(vendor: str) -> list[str]:
    if vendor == "postgresql":
        return POSTGRES
    if vendor == "sqlite":
        return SQLITE
    raise NotImplementedError(f"No triggers written for {vendor}: campaign counts and versions need them.")


def existing_triggers(connection) -> set[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        else:
            cursor.execute("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")
        return {row[0] for row in cursor.fetchall()}


def expected_triggers(vendor: str) -> set[str]:
    names = {name for group in TRIGGER_NAMES.values() for name in group}
    extra = {name for group in SQLITE_ONLY.values() for name in group}
    return names | extra if vendor == "sqlite" else names


def drop(connection) -> None:
    with connection.cursor() as cursor:
        for table, names in TRIGGER_NAMES.items():
            for name in names + SQLITE_ONLY.get(table, ()):
                on = "" if connection.vendor == "sqlite" else f" ON {table}"
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}{on}")


def install(connection) -> bool:
    """Create the triggers any table lacks and, if one was missing, count the tallies afresh
    from the rows (what was written meanwhile went uncounted). Returns whether it did."""
    if connection.vendor not in ("sqlite", "postgresql"):
        statements(connection.vendor)  # says what is missing
    expected = expected_triggers(connection.vendor)
    if expected <= existing_triggers(connection):
        return False
    drop(connection)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM campaigns_requesttally")
        cursor.execute(BACKFILL)
        cursor.execute(BACKFILL_FOLLOWUPS)
        for sql in statements(connection.vendor):
            cursor.execute(sql)
    return True


def drop_before_migrate(using: str = "default", **kwargs) -> None:
    """pre_migrate, on SQLite: out of the way of table rebuilds (see the module's docstring)."""
    connection = connections[using]
    if connection.vendor == "sqlite" and "campaigns_requesttally" in connection.introspection.table_names():
        drop(connection)


def install_after_migrate(using: str = "default", **kwargs) -> None:
    """post_migrate: create the triggers, and the tallies, where they are missing."""
    install(connections[using])
