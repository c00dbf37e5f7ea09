"""The tasks Celery registers are exactly the names the job code sends to (``TaskName``)."""

from __future__ import annotations

from worker.jobs import TaskName
from worker.jobs.celery_app import app


def test_every_task_name_is_registered_and_nothing_else() -> None:
    app.loader.import_default_modules()  # the ``include`` modules, as a worker imports them
    registered = {name for name in app.tasks if name.startswith("henrei.")}
    assert registered == {str(t) for t in TaskName}
    for name in registered:
        assert app.tasks[name].max_retries is not None  # every task went through tasks._base
