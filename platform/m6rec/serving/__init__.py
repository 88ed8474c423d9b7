"""Serving: per-process cache of loaded model bundles and the recommendation endpoints."""
