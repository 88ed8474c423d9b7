"""A traffic simulator for the online loop (``manage.py simulate_traffic``): synthetic users with
hidden preferences use the real HTTP API, so recommendations, attribution, impressions and
experiments are exercised exactly as a tenant's clients would.

No Django here: the command reads the catalogue and the domain's interaction types, creates a
temporary API key and hands plain data to :func:`run`; the HTTP client is the standard
library's (:mod:`http.client`, one keep-alive connection per thread).

The behaviour model (documented in README "The online loop"):

* each user prefers 1 or 2 of the catalogue's categories (never more than half of them),
  drawn in proportion to the categories' sizes; categories with fewer than
  ``MIN_CATEGORY_ITEMS`` items are left out;
* before its first request, a user ingests ``seed_interactions`` interactions (the click type)
  with random items of its preferred categories, so the model folds them in;
* each turn, the user requests ``GET users/{id}/recommendations?k=K`` and examines the list
  from the top: the item at position p (0-based) is clicked with probability
  ``click_preferred`` (an item in a preferred category) or ``click_other``, times the
  position bias ``1 / log2(p + 2)`` (the DCG discount); a clicked item converts (a goal-type
  interaction as well) with probability ``convert_preferred`` or ``convert_other``;
* the clicks and conversions of one response go back in one ``POST interactions`` with the
  response's ``recommendation_id``; a user's turns never overlap, so the next response
  already excludes what it clicked (``exclude_seen``).
"""

from m6rec.online.simulation.client import ApiClient, ApiError
from m6rec.online.simulation.runner import Plan, Summary, arm_label, format_summary, run
from m6rec.online.simulation.world import (
    Behaviour,
    Catalogue,
    SimUser,
    click_probability,
    make_users,
)

__all__ = [
    "ApiClient",
    "ApiError",
    "Behaviour",
    "Catalogue",
    "Plan",
    "SimUser",
    "Summary",
    "arm_label",
    "click_probability",
    "format_summary",
    "make_users",
    "run",
]
