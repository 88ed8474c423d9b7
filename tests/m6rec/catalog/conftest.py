from m6rec.common.testing import *  # noqa: F403 - shared fixtures (tenant, client, ...)
