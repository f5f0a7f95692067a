def time_zone(request) -> dict:
    """The zone the page's times are in, for the "Times are in …" notes: looked up only if the
    page uses them (a template calls a callable it is given)."""
    zone = getattr(request, "time_zone", None)
    if zone is None:
        return {}
    return {"time_zone_name": lambda: zone.key, "time_zone_is_own": lambda: zone.is_own}
