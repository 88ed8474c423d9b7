"""Shared API helpers: the JSON error format, strict JSON parsing, auth, pagination, throttles.

Not a Django app (no models); imported by the apps' ``apis.py`` modules and the REST_FRAMEWORK
settings.
"""
