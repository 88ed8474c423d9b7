"""Model registry: numbered model versions per tenant, promotion, rollback and the audit log."""
