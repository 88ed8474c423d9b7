"""Domain plugins: the contract (:mod:`domains.base`) and the five first-party domains.

Django-free. Each domain turns a tenant's stored JSON properties into numeric feature matrices
for :mod:`engine` and applies serving rules to candidate lists.
"""

from domains.base import (
    Candidate,
    Domain,
    InteractionRecord,
    ItemRecord,
    UnknownInteractionTypeError,
    UserRecord,
)

__all__ = [
    "Candidate",
    "Domain",
    "InteractionRecord",
    "ItemRecord",
    "UnknownInteractionTypeError",
    "UserRecord",
]
