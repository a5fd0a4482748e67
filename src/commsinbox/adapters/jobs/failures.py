"""The log line of a failed job run, the same for every queue."""
from __future__ import annotations

import logging

log = logging.getLogger("commsinbox.jobs")


def log_failure(task: str, job_id: int | None, failed_runs: int, delay: float | None, exc: BaseException) -> None:
    """WARNING with the retry delay, or ERROR when no run is left; the traceback either way. Job arguments are
    ids only, and are left out all the same."""
    extra = {"task": task, "job_id": job_id, "failed_runs": failed_runs,
             "retry_in_seconds": None if delay is None else round(delay, 3)}
    if delay is None:
        log.error("job failed for good after %d run(s): %s", failed_runs, task, extra=extra, exc_info=exc)
    else:
        log.warning("job failed, retrying in %.1f s: %s", delay, task, extra=extra, exc_info=exc)
