"""PostgreSQL database backend (``ENGINE = "m6rec.common.postgresql"``); see :mod:`.base`."""
