"""The app factory: one FastAPI application with every domain's API and pages mounted."""

import gc
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from importlib.resources import files
from pathlib import Path

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session, sessionmaker

from aicommons import __version__
from aicommons.communities import api as communities_api
from aicommons.communities import service as communities
from aicommons.communities import views as communities_views
from aicommons.concerns import api as concerns_api
from aicommons.concerns import views as concerns_views
from aicommons.core import jobs
from aicommons.core.blobs import BlobStore
from aicommons.core.config import Settings
from aicommons.core.db import make_engine, make_session_factory, unit_of_work
from aicommons.core.markdown import render as markdown
from aicommons.core.problems import install_problem_handlers
from aicommons.core.ratelimit import RateHit  # noqa: F401 (its table, used by several domains)
from aicommons.core.sdg import goals
from aicommons.core.security import ensure_signing_key
from aicommons.core.web import Pages, RequestTransactions
from aicommons.datasets import api as datasets_api
from aicommons.datasets import service as datasets
from aicommons.datasets import views as datasets_views
from aicommons.datasets.jobs import statistics_job
from aicommons.events import api as events_api
from aicommons.events import views as events_views
from aicommons.federation import api as federation_api
from aicommons.federation import service as federation
from aicommons.federation import views as federation_views
from aicommons.federation.jobs import Engines, training_job
from aicommons.governance import api as governance_api
from aicommons.governance import views as governance_views
from aicommons.governance.jobs import governance_chore
from aicommons.insights import api as insights_api
from aicommons.insights import views as insights_views
from aicommons.insights.jobs import digest_chore
from aicommons.journeys import api as journeys_api
from aicommons.journeys import views as journeys_views
from aicommons.ledger import api as ledger_api
from aicommons.ledger import service as ledger
from aicommons.ledger import tokens, witness
from aicommons.ledger import views as ledger_views
from aicommons.ledger.note import Signer
from aicommons.members import api as members_api
from aicommons.members import views as members_views
from aicommons.members.auth import optional_member
from aicommons.members.notifications import Notification  # noqa: F401 (its table, for every domain)
from aicommons.problems import api as problems_api
from aicommons.problems import service as problems
from aicommons.problems import views as problems_views
from aicommons.problems.jobs import close_chore, scoring_job
from aicommons.web.navigation import LoginRequired, to_login


def job_handlers(settings: Settings) -> Mapping[str, jobs.Handler]:
    """Every kind of background job, with what it needs of the commons' settings."""
    return {
        communities.STATS_JOB: communities.refresh_stats,
        datasets.STATS_JOB: statistics_job(BlobStore(settings.blob_dir)),
        problems.SCORE_JOB: scoring_job(BlobStore(settings.blob_dir)),
        federation.TRAIN_JOB: training_job(
            Engines(BlobStore(settings.blob_dir), settings.superlink, settings.superlink_certificates)
        ),
    }


WEB_ROOT = Path(str(files("aicommons").joinpath("web")))


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for `settings` (read from the environment when not given)."""
    settings = settings or Settings()
    engine = make_engine(settings.resolved_database_url)
    factory = make_session_factory(engine)
    log = log_identity(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The imports leave ~260,000 long-lived objects; frozen, a full collection no longer walks them
        # and stops pausing a request for 200-300 ms now and then.
        gc.collect()
        gc.freeze()
        if settings.run_worker:
            with jobs.background_worker(make_worker(settings, factory, log)):
                yield
        else:
            yield
        engine.dispose()

    app = FastAPI(
        title=settings.name,
        version=__version__,
        description="AI Commons API. Errors are RFC 9457 problem documents with a stable `code`.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.session_factory = factory
    app.state.log = log
    app.state.pages = Pages(_templates(settings))
    install_problem_handlers(app, upload_limit=settings.max_upload_bytes)
    app.add_middleware(RequestTransactions)  # each request's transaction ends by its answer's status
    app.add_exception_handler(LoginRequired, to_login)
    for router in (
        ledger_api.tlog,
        ledger_api.well_known,
        ledger_api.router,
        members_api.router,
        communities_api.router,
        insights_api.router,
        concerns_api.router,
        events_api.router,
        journeys_api.router,
        datasets_api.router,
        problems_api.router,
        federation_api.router,
        governance_api.router,
        members_views.router,
        communities_views.router,
        insights_views.router,
        concerns_views.router,
        events_views.router,
        journeys_views.router,
        datasets_views.router,
        problems_views.router,
        federation_views.router,
        governance_views.router,
    ):
        app.include_router(router)
    # The ledger cannot know members; resolving the visitor here lets its pages' header show who is logged in.
    app.include_router(ledger_views.router, dependencies=[Depends(optional_member)])
    app.mount("/static", StaticFiles(directory=WEB_ROOT / "static"), name="static")
    return app


def log_identity(settings: Settings) -> ledger.LogIdentity:
    """The log's origin and the commons' signing key (created in the data directory on first use)."""
    key = ensure_signing_key(settings.signing_key_path)
    return ledger.LogIdentity(origin=settings.log_origin, signer=Signer(settings.log_origin, key))


def make_worker(settings: Settings, factory: sessionmaker[Session], log: ledger.LogIdentity) -> jobs.Worker:
    """A job worker whose chores between jobs are to sequence the log, close the problems due, send the
    daily digests of subscriptions, move proposals along and have witnesses cosign the log."""

    def sequence() -> None:
        with unit_of_work(factory) as session:
            checkpoint = ledger.integrate(session, log)
            if checkpoint is not None:
                tokens.reward_intervals(session, checkpoint.size)

    witnessing = [witness.witness_chore(factory, settings.witnesses)] if settings.witnesses else []
    return jobs.Worker(
        factory,
        job_handlers(settings),
        heartbeat_seconds=settings.job_heartbeat_seconds,
        timeout_seconds=settings.job_timeout_seconds,
        chores=[
            sequence,
            close_chore(factory),
            digest_chore(factory),
            governance_chore(factory),
            *witnessing,
        ],
    )


def _templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=WEB_ROOT / "templates")
    sdgs = goals()
    templates.env.globals |= {"commons_name": settings.name, "version": __version__, "sdg_goals": sdgs}
    templates.env.globals["sdg_choices"] = [(goal.number, f"{goal.number} · {goal.short}") for goal in sdgs]
    templates.env.filters["markdown"] = markdown
    return templates
