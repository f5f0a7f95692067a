"""What a page costs the database, counted rather than timed: the queries it runs, and the work
they do. On SQLite, the virtual machine's instructions (a progress handler counts them); on
PostgreSQL, the rows read from tables and indexes in this transaction
(pg_stat_xact_user_tables). Both grow with the rows a query touches, and not with the machine's
load, so a test can say "the same at 10 rows and at 10,000" without a clock."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection
from django.test.utils import CaptureQueriesContext

# SQLite calls the handler every this many instructions.
STEP = 100


@dataclass
class Cost:
    queries: int = 0
    work: int = 0  # SQLite: VM instructions; PostgreSQL: rows read
    sql: list[str] = field(default_factory=list)
    by_query: list[tuple[int, str]] = field(default_factory=list)  # (work, sql), the costliest first

    def costliest(self, n: int = 3) -> list[tuple[int, str]]:
        return [(work, sql[:300]) for work, sql in self.by_query[:n]]


def rows_read() -> int:
    # psycopg's own cursor: not one of the queries measured.
    with connection.connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(seq_tup_read), 0) + COALESCE(SUM(idx_tup_fetch), 0) FROM pg_stat_xact_user_tables"
        )
        return int(cursor.fetchone()[0])


def analyze() -> None:
    """PostgreSQL plans by its statistics, which a table filled a moment ago in bulk lacks
    (autovacuum would gather them soon after, in production)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def vacuum_analyze() -> None:
    """`analyze()`, and on PostgreSQL the visibility map too, as autovacuum leaves a table:
    without it the planner may read a whole range where an index-only scan reads a window.
    VACUUM runs outside a transaction only: for a test marked django_db(transaction=True)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    else:
        analyze()


# What a page may read beyond the same page at 10 rows, whatever the table's size: a page of
# 50 rows with their joins, and counts capped at 100. SQLite instructions, PostgreSQL rows.
def slack() -> int:
    return 20_000 if connection.vendor == "sqlite" else 400


@contextmanager
def measured():
    """Counts the queries and the work of what runs inside, on the default database."""
    cost = Cost()
    connection.ensure_connection()
    if connection.vendor == "sqlite":
        steps = [0]

        def tick() -> int:
            steps[0] += 1
            return 0  # go on

        def each_query(execute, sql, params, many, context):
            before = steps[0]
            try:
                return execute(sql, params, many, context)
            finally:
                cost.by_query.append(((steps[0] - before) * STEP, sql))

        connection.connection.set_progress_handler(tick, STEP)
        try:
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(each_query):
                yield cost
        finally:
            connection.connection.set_progress_handler(None, STEP)
        cost.work = steps[0] * STEP
        cost.by_query.sort(key=lambda item: -item[0])
    else:
        def each_query(execute, sql, params, many, context):
            before = rows_read()
            try:
                return execute(sql, params, many, context)
            finally:
                cost.by_query.append((rows_read() - before, sql))

        before = rows_read()
        with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(each_query):
            yield cost
        cost.work = rows_read() - before
        cost.by_query.sort(key=lambda item: -item[0])
    cost.queries = len(captured)
    cost.sql = [query["sql"] for query in captured.captured_queries]


def cost_of_get(client, url: str, **params) -> Cost:
    with measured() as cost:
        response = client.get(url, params)
        assert response.status_code in (200, 204, 286), response.status_code
    return cost
