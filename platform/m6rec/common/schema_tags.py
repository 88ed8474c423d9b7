"""The OpenAPI tags, one per resource, in the order Swagger UI shows them.

Plain data without imports: ``settings.SPECTACULAR_SETTINGS["TAGS"]`` reads it at settings time;
:mod:`m6rec.common.schema` files every operation under one of them.
"""

SCHEMA_TAGS = [
    {"name": "items", "description": "The tenant's catalogue: upsert, read, list, delete items."},
    {"name": "users", "description": "The tenant's end users: upsert, read, list, delete."},
    {"name": "interactions", "description": "Behaviour events (views, purchases, ratings…)."},
    {
        "name": "recommendations",
        "description": "Top-K for a user or a session, similar items, popular items.",
    },
    {"name": "training", "description": "Queue training runs and follow their progress."},
    {
        "name": "models",
        "description": "The model registry: versions, promote, pin, roll back "
        "(every change audited).",
    },
    {"name": "experiments", "description": "A/B experiments between model versions."},
    {"name": "online", "description": "Online metrics: impressions and attributed interactions."},
]
