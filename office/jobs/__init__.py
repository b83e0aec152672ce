"""Background jobs: one facade, an outbox in the database, RQ or in-process execution."""


def init_app(app):
    from office.jobs import models, service  # noqa: F401

    if app.config.get("REDIS_URL") or app.config.get("JOBS_INPROCESS_MODE") != "thread":
        return

    @app.before_request
    def _start_inprocess_worker():
        # Embedded mode: the web process is its own worker (pending jobs, periodic scans).
        runner = service._runner(app)
        if isinstance(runner, service.InProcessRunner):
            runner._ensure_thread()
