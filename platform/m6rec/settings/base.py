"""Settings shared by every environment. Secrets and addresses come from the environment."""

from pathlib import Path

import environ

PLATFORM_DIR = Path(__file__).resolve().parent.parent.parent  # platform/
BASE_DIR = PLATFORM_DIR.parent  # repository root (or site-packages parent when installed)

env = environ.Env()

SECRET_KEY = env("DJANGO_SECRET_KEY", default="")
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI assets served locally: no CDN needed
    "m6rec.plugins",
    "m6rec.tenants",
    "m6rec.catalog",
    "m6rec.training",
    "m6rec.registry",
    "m6rec.ops",
    "m6rec.serving",
    "m6rec.online",
    "m6rec.batch",
]

MIDDLEWARE = [
    "m6rec.ops.middleware.RequestIdMiddleware",
    "m6rec.ops.middleware.HealthCheckMiddleware",
    "m6rec.ops.middleware.MetricsMiddleware",
    "m6rec.common.middleware.ApiJsonErrorsMiddleware",
    "m6rec.ops.outage.DatabaseOutageMiddleware",
    "m6rec.common.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

# The admin's messages live in its session: the default (cookie, then session) builds a signed
# cookie store on every request, API requests included.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

ROOT_URLCONF = "m6rec.urls"
WSGI_APPLICATION = "m6rec.wsgi.application"
ASGI_APPLICATION = "m6rec.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/m6rec")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's, with health checks only for connections idle a while (m6rec.common.postgresql)
    DATABASES["default"]["ENGINE"] = "m6rec.common.postgresql"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": "m6rec",
    }
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles"))
MEDIA_ROOT = env.path("M6REC_MEDIA_ROOT", default=str(BASE_DIR / "var" / "media"))
MEDIA_URL = "media/"

# Request size limits: the largest accepted batch (10,000 rows) fits comfortably in 16 MiB.
M6REC_MAX_BODY_BYTES = env.int("M6REC_MAX_BODY_BYTES", default=16 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = M6REC_MAX_BODY_BYTES
# Longest URL (path and query string) answered; longer is a JSON 414 (RequestLimitsMiddleware).
M6REC_MAX_URL_BYTES = env.int("M6REC_MAX_URL_BYTES", default=8190)

REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "m6rec.common.schema.AutoSchema",  # a tag per resource
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["m6rec.common.parsers.StrictJSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": ["m6rec.common.auth.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_THROTTLE_CLASSES": ["m6rec.common.auth.ApiKeyRateThrottle"],
    # Per API key; an ApiKey.rate_limit overrides it. Cache alias: M6REC_THROTTLE_CACHE.
    "DEFAULT_THROTTLE_RATES": {"api_key": env("M6REC_API_KEY_RATE", default="1200/min")},
    "EXCEPTION_HANDLER": "m6rec.common.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": None,
}
M6REC_THROTTLE_CACHE = env("M6REC_THROTTLE_CACHE", default="default")
# Seconds a web process may hold tokens it took from a key's Redis budget ahead of use (keys
# whose limit gives at least two per window; m6rec.common.auth.TokenLeases); 0: one Redis
# round trip per request.
M6REC_THROTTLE_LEASE_S = env.float("M6REC_THROTTLE_LEASE_S", default=0.05)
# Verified API keys are cached per process this many seconds (0 = off): a revocation made in
# another process takes effect within it (in the revoking process at once).
M6REC_API_KEY_CACHE_TTL = env.float("M6REC_API_KEY_CACHE_TTL", default=5.0)
# Seconds a process remembers a failed key verification (by the token's SHA-256): repeated bad
# keys cost no query.
M6REC_API_KEY_NEGATIVE_CACHE_TTL = env.float("M6REC_API_KEY_NEGATIVE_CACHE_TTL", default=5.0)
# Serving keeps each tenant's catalogue in memory (m6rec.serving.snapshot): writes through the
# API reach every process within ACTIVE_VERSION_TTL; writes that bypass the services (direct
# SQL) within CATALOG_TTL, the oldest a process lets its copy of a catalogue get.
M6REC_CATALOG_TTL = env.float("M6REC_CATALOG_TTL", default=300.0)
# Serving: a promotion, rollback, experiment change or catalogue write reaches every web process
# within ACTIVE_VERSION_TTL seconds; each process keeps up to MODEL_CACHE_SIZE loaded bundles (and
# MODEL_CACHE_MAX_BYTES); a request folds in the user's latest SERVING_HISTORY_LIMIT events.
M6REC_ACTIVE_VERSION_TTL = env.float("M6REC_ACTIVE_VERSION_TTL", default=1.0)
M6REC_MODEL_CACHE_SIZE = env.int("M6REC_MODEL_CACHE_SIZE", default=8)
M6REC_MODEL_CACHE_MAX_BYTES = env.int("M6REC_MODEL_CACHE_MAX_BYTES", default=2 * 1024**3)
M6REC_SERVING_HISTORY_LIMIT = env.int("M6REC_SERVING_HISTORY_LIMIT", default=500)
# /metrics: when set, scrapers must send Authorization: Bearer <token>.
M6REC_METRICS_TOKEN = env("M6REC_METRICS_TOKEN", default="")
# Online loop: impression counters go per process → Redis (every FLUSH_S) → the database (a
# beat task every DB_FLUSH_S). An empty Redis URL writes the database from each process.
M6REC_IMPRESSIONS_REDIS_URL = env("M6REC_IMPRESSIONS_REDIS_URL", default=REDIS_URL)
M6REC_IMPRESSIONS_FLUSH_S = env.float("M6REC_IMPRESSIONS_FLUSH_S", default=1.0)
M6REC_IMPRESSIONS_DB_FLUSH_S = env.float("M6REC_IMPRESSIONS_DB_FLUSH_S", default=30.0)
# Retry-After (seconds) of the 503 database_unavailable answered during a database outage.
M6REC_DB_RETRY_AFTER = env.int("M6REC_DB_RETRY_AFTER", default=5)
# Freeze the process's objects out of the garbage collector's full passes after a model load
# (m6rec.ops.gcfreeze): on in production web workers, off where processes load many models.
M6REC_GC_FREEZE = env.bool("M6REC_GC_FREEZE", default=False)
# The per-request serving queries are prepared once per database connection (PostgreSQL);
# False behind PgBouncer in transaction mode (m6rec.common.prepared).
M6REC_DB_PREPARED_STATEMENTS = env.bool("M6REC_DB_PREPARED_STATEMENTS", default=True)
# With CONN_HEALTH_CHECKS, a connection that ran a query less than this many seconds ago is not
# checked again at the next request (m6rec.common.postgresql); 0 checks at every request.
M6REC_DB_HEALTH_CHECK_IDLE = env.float("M6REC_DB_HEALTH_CHECK_IDLE", default=1.0)

from m6rec.common.schema_tags import SCHEMA_TAGS  # noqa: E402

SPECTACULAR_SETTINGS = {
    "TITLE": "M6-Rec API",
    "DESCRIPTION": "Multi-tenant recommendations: ingest items, users and interactions; "
    "train per-tenant models; serve top-K recommendations.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "TAGS": SCHEMA_TAGS,
    # Enum names the SDKs see (drf-spectacular would otherwise derive names like Status212Enum).
    "ENUM_NAME_OVERRIDES": {
        "RunStatusEnum": "m6rec.training.models.TrainingRun.Status",
        "VersionStatusEnum": "m6rec.registry.models.ModelVersion.Status",
        "ExperimentStatusEnum": "m6rec.online.models.Experiment.Status",
        "BatchStatusEnum": "m6rec.batch.models.BatchJob.Status",
        "DecisionStatusEnum": ["collecting", "winner", "no_difference"],
    },
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL)
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
# Publishing (web requests, beat) must not hang while the broker is down: give up after
# ~0.2 s of retries and 1 s per connection attempt (worst case ≈ 2.2 s, refused ≈ 0.2 s).
# A training run that could not be sent stays "to dispatch" and beat retries it (below).
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0.2,
    "interval_step": 0.2,
    "interval_max": 0.2,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1.0
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 1.0}
# Training queues (m6rec.ops.queues.queue_for): tenants at/over the threshold go to "large".
CELERY_TASK_DEFAULT_QUEUE = "small"
M6REC_LARGE_TENANT_INTERACTIONS = env.int("M6REC_LARGE_TENANT_INTERACTIONS", default=1_000_000)

# Domain plugins (entry-point group "m6rec.domains") that must not load, e.g. a broken package.
M6REC_DISABLED_DOMAINS = env.list("M6REC_DISABLED_DOMAINS", default=[])

# Training and model registry (m6rec.training, m6rec.registry).
# Auto-promote a candidate only when its validation nDCG@10 beats the active version's by more.
M6REC_PROMOTION_MARGIN = env.float("M6REC_PROMOTION_MARGIN", default=0.0)
# Per-tenant training lock expiry (s); a live run's heartbeat (every M6REC_TRAINING_HEARTBEAT_S
# seconds) extends it and stamps the run. A run whose heartbeat is older than the lock timeout,
# lock expired, is re-queued by the sweep (m6rec.training.services.recovery): a lost attempt is
# detected within lock timeout + sweep interval (60 + 15 s).
M6REC_TRAINING_LOCK_TIMEOUT = env.int("M6REC_TRAINING_LOCK_TIMEOUT", default=60)
M6REC_TRAINING_HEARTBEAT_S = env.float("M6REC_TRAINING_HEARTBEAT_S", default=10.0)
# Seconds between sweeps for lost attempts: beat's task and each worker's main process.
M6REC_TRAINING_SWEEP_INTERVAL = env.float("M6REC_TRAINING_SWEEP_INTERVAL", default=15.0)
# Training workers yield to web processes on a shared host (m6rec.ops.worker_limits): worker
# processes run at this niceness (0 = unchanged) with at most this many threads per numeric
# library (BLAS/OpenMP, TensorFlow, implicit; 0 = the libraries' defaults, ~one per core).
M6REC_WORKER_NICE = env.int("M6REC_WORKER_NICE", default=10)
M6REC_WORKER_THREADS = env.int("M6REC_WORKER_THREADS", default=0)
# ... or in the SCHED_IDLE class (runs only on cores that web processes leave idle).
M6REC_WORKER_SCHED_IDLE = env.bool("M6REC_WORKER_SCHED_IDLE", default=False)
M6REC_TRAINING_MAX_ATTEMPTS = env.int("M6REC_TRAINING_MAX_ATTEMPTS", default=2)
# Engine TrainConfig overrides for every tenant (a tenant's config["training"] overrides these).
M6REC_TRAIN_CONFIG = env.json("M6REC_TRAIN_CONFIG", default={})
# Django storage alias holding model bundles ("default" = MEDIA_ROOT; e.g. an S3 alias).
M6REC_BUNDLE_STORAGE = env("M6REC_BUNDLE_STORAGE", default="default")
# Where a process keeps its local copies of bundles from object storage (production sets it).
M6REC_BUNDLE_CACHE_DIR = env.path("M6REC_BUNDLE_CACHE_DIR", default=str(Path(MEDIA_ROOT) / "cache"))
# A run's progress is written at most every PROGRESS_INTERVAL seconds; a queued run whose
# message is not picked up is re-sent after REDISPATCH_AFTER s (dispatch leases last
# DISPATCH_LEASE s); a tenant whose run failed waits FAILURE_BACKOFF s before a scheduled
# retry; TRAINING_ROUTING sends large tenants to the "large" queue.
M6REC_PROGRESS_INTERVAL = env.float("M6REC_PROGRESS_INTERVAL", default=1.0)
M6REC_TRAINING_REDISPATCH_AFTER = env.float("M6REC_TRAINING_REDISPATCH_AFTER", default=900.0)
M6REC_TRAINING_DISPATCH_LEASE = env.float("M6REC_TRAINING_DISPATCH_LEASE", default=30.0)
M6REC_TRAINING_FAILURE_BACKOFF = env.float("M6REC_TRAINING_FAILURE_BACKOFF", default=3600.0)
M6REC_TRAINING_ROUTING = env.bool("M6REC_TRAINING_ROUTING", default=True)
# Batch recommendations (m6rec.batch): users per part (a part is the resume point), a part is
# cut short after CHUNK_SECONDS (the heartbeat); an attempt silent for STALE_S is re-queued.
M6REC_BATCH_CHUNK_USERS = env.int("M6REC_BATCH_CHUNK_USERS", default=1000)
M6REC_BATCH_CHUNK_SECONDS = env.float("M6REC_BATCH_CHUNK_SECONDS", default=20.0)
M6REC_BATCH_STALE_S = env.float("M6REC_BATCH_STALE_S", default=300.0)
M6REC_BATCH_MAX_ATTEMPTS = env.int("M6REC_BATCH_MAX_ATTEMPTS", default=3)
CELERY_BEAT_SCHEDULE = {
    "m6rec-training-schedule": {
        "task": "m6rec.training.tasks.schedule_training",
        "schedule": env.float("M6REC_TRAINING_SCHEDULE_INTERVAL", default=300.0),
    },
    # Outbox sender: runs whose message could not reach the broker (outage) are sent within
    # one interval of the broker's return.
    "m6rec-training-dispatch": {
        "task": "m6rec.training.tasks.dispatch_training_runs",
        "schedule": env.float("M6REC_TRAINING_DISPATCH_INTERVAL", default=5.0),
        "options": {"expires": env.float("M6REC_TRAINING_DISPATCH_INTERVAL", default=5.0)},
    },
    "m6rec-online-flush-impressions": {
        "task": "m6rec.online.tasks.flush_impressions",
        "schedule": M6REC_IMPRESSIONS_DB_FLUSH_S,
        "options": {"expires": M6REC_IMPRESSIONS_DB_FLUSH_S},
    },
    "m6rec-training-sweep-stuck": {
        "task": "m6rec.training.tasks.sweep_stuck_runs",
        "schedule": M6REC_TRAINING_SWEEP_INTERVAL,
        "options": {"expires": M6REC_TRAINING_SWEEP_INTERVAL},
    },
    # Batch recommendation jobs: re-queue lost attempts, send jobs the broker missed.
    "m6rec-batch-dispatch": {
        "task": "m6rec.batch.tasks.dispatch_batch_jobs",
        "schedule": env.float("M6REC_BATCH_DISPATCH_INTERVAL", default=10.0),
        "options": {"expires": env.float("M6REC_BATCH_DISPATCH_INTERVAL", default=10.0)},
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("DJANGO_LOG_LEVEL", default="INFO")},
}
