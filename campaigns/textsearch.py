"""The site's text searches (Review and its API `q`, the do-not-contact list), written once:
every word must match somewhere, whatever its case, in any alphabet.

Prospects are searched in a stored column, `Prospect.search_text`, which holds their searched
fields already folded (`search_text_of`): a query folds only its words and compares with a
plain LIKE, which a trigram (pg_trgm GIN) index serves on PostgreSQL. On SQLite that LIKE still
reads every prospect, but one short column and no function call per row.

PostgreSQL's `icontains` compares UPPER() of both sides, which knows every alphabet, so
"KRÜGER" finds "Krüger" there. SQLite's LIKE folds only ASCII letters, so on SQLite the
`folded_contains` lookup compares both sides casefolded by Python instead, through a function
registered on each new connection. Accents still count on both ("kruger" does not find
"Krüger"): ignoring them on PostgreSQL needs its unaccent extension or a stored folded column.
"""

from __future__ import annotations

import functools
import operator
import unicodedata

from django.db.models import Field, Q
from django.db.models.lookups import IContains

FOLD_FUNCTION = "outreach_fold"


def fold(value):
    """The text as a case-insensitive search compares it: casefolded ("Straße" and "STRASSE"
    alike), and composed, so that a "ü" typed as u + ¨ matches one typed as ü."""
    if not isinstance(value, str):
        return value  # SQLite hands NULL (None) and any non-text value through as it is
    return unicodedata.normalize("NFC", value.casefold())


def search_text_of(prospect) -> str:
    """What `Prospect.search_text` holds: its searched fields (models.SEARCH_TEXT_FIELDS),
    folded, one space apart (a searched word never holds a space, so none matches across two)."""
    parts = (prospect.first_name, prospect.last_name, prospect.company, prospect.title, prospect.headline,
             prospect.profile_url, prospect.profile_urn)
    return fold(" ".join(part for part in parts if part))


def every_word_in_search_text(query: str, field: str = "search_text") -> Q:
    """Rows whose stored, folded `field` holds each word of `query` (an empty one: all)."""
    condition = Q()
    for word in query.split():
        condition &= Q(**{f"{field}__contains": fold(word)})
    return condition


def add_fold_function(sender, connection, **kwargs) -> None:
    """Connected to connection_created in CampaignsConfig.ready()."""
    if connection.vendor == "sqlite":
        # Deterministic: SQLite may then use it in indexes and factor its calls.
        connection.connection.create_function(FOLD_FUNCTION, 1, fold, deterministic=True)


@Field.register_lookup
class FoldedContains(IContains):
    """`field__folded_contains="krüger"`: `icontains` whose case-folding knows every alphabet
    on SQLite too."""

    lookup_name = "folded_contains"

    def as_sql(self, compiler, connection):
        return compiler.compile(IContains(self.lhs, self.rhs))

    def as_sqlite(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return self.as_sql(compiler, connection)
        lhs_sql, lhs_params = self.process_lhs(compiler, connection)
        # The pattern is "%value%" with LIKE's wildcards escaped; folding keeps %, _ and \.
        rhs_sql, rhs_params = self.process_rhs(compiler, connection)
        return (
            f"{FOLD_FUNCTION}({lhs_sql}) LIKE {rhs_sql} ESCAPE '\\'",
            (*lhs_params, *(fold(param) for param in rhs_params)),
        )


def every_word_in(query: str, fields: list[str]) -> Q:
    """Rows where each word of `query` is in at least one of `fields`, so that "Ada Lovelace"
    finds first and last name together. An empty query matches everything."""
    condition = Q()
    for word in query.split():
        condition &= functools.reduce(operator.or_, (Q(**{f"{name}__folded_contains": word}) for name in fields))
    return condition
