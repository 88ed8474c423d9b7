"""Domain plugin registry: loads the ``m6rec.domains`` entry points and checks the contract."""
