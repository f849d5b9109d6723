"""gunicorn settings for SupportIT (`gunicorn -c deploy/gunicorn.conf.py wsgi:app`).

Every value can be overridden from the environment of the unit, so one file serves every host.
"""

import gc
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
# About two workers per core; four threads each for requests waiting on the database.
workers = int(os.environ.get("WEB_WORKERS", "3"))
threads = int(os.environ.get("WEB_THREADS", "4"))
worker_class = "gthread"
# Requests past this are killed and logged: no page of SupportIT should come near it.
timeout = 60
graceful_timeout = 30
keepalive = 5
# Only the local nginx may say who the client is (SUPPORTIT_PROXY_HOPS does the rest).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# No access log here: URLs can carry password-reset and alert-link tokens. SupportIT logs one
# line per request itself, with the endpoint's name instead of the path.
accesslog = None
errorlog = "-"


def child_exit(server, worker):  # type: ignore[no-untyped-def]
    """A worker's metric files are merged into the totals once it has gone (prometheus_client's
    multiprocess mode, on when PROMETHEUS_MULTIPROC_DIR is set)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker):  # type: ignore[no-untyped-def]
    """What a worker built to start (the application, SQLAlchemy's mappings, the catalogues,
    scikit-learn) lives as long as it does: freeze it out of the garbage collector's reach.
    Otherwise each full collection walks those 280,000 objects again, a 100 ms pause on a
    request every few hundred (docs/performance.md)."""
    gc.collect()
    gc.freeze()
