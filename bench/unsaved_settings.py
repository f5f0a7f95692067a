"""The site's settings, except that django-q2 saves no result of a successful task
(save_limit -1; failures are still saved). bench/senders_bench.py runs one burst with these,
to show what saving each pass's result, and pruning to save_limit, costs."""

import outreach_site.settings as site

globals().update({name: getattr(site, name) for name in dir(site) if name.isupper()})
Q_CLUSTER = {**site.Q_CLUSTER, "save_limit": -1}
