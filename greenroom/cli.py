"""The `greenroom` command: serve the product, run the LiveKit interviewer worker, apply migrations, score a practice answer."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import sys
import time

os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")  # before anything imports onnxruntime
# NumPy's OpenBLAS threads spin between the small products the signals make: about 5% of an
# interview's CPU on 2 cores (perf, bench.capacity), for nothing. Before numpy is imported.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import typer

from greenroom.settings import Settings

app = typer.Typer(help="Greenroom: a real-time AI mock-interview room.", no_args_is_help=True)


def _say(message: str) -> None:
    typer.echo(f"[greenroom] {message}", err=True)


def _database_url(settings: Settings):
    """The configured database, or an embedded PostgreSQL started in the data directory."""
    if settings.database_url:
        return settings.database_url, None
    from db.embedded import EmbeddedPostgres

    _say(f"starting embedded PostgreSQL in {settings.resolved_data_dir() / 'pg'}")
    pg = EmbeddedPostgres(settings.resolved_data_dir())
    return pg.start(), pg


def _loop_factory(name: str):
    if name == "asyncio":
        return None  # asyncio's own
    import uvloop

    return uvloop.new_event_loop


@app.command()
def serve(
    host: str | None = typer.Option(None, help="Address to listen on (default from settings)."),
    port: int | None = typer.Option(None, help="Port to listen on (default from settings)."),
) -> None:
    """Run the API, the embedded room server, the interviewers and the web page in one process
    (with GREENROOM_TRANSPORT=livekit: the API and the web page; `greenroom agent` interviews)."""
    import uvicorn

    from greenroom.server import build_app

    from greenroom.log_privacy import log_to

    logging.getLogger().setLevel(logging.INFO)
    log_to(sys.stderr)
    settings = Settings()
    if host:
        settings.host = host
    if port:
        settings.port = port
    started = time.perf_counter()
    url, pg = _database_url(settings)
    settings.database_url = url
    try:
        if settings.transport == "livekit":  # the rooms are LiveKit's, the voices its workers'
            models = None
            _say(f"API only: rooms on LiveKit at {settings.livekit_url}, interviewers in `greenroom agent` workers")
        else:
            from agent.worker import VoiceModels

            models = VoiceModels.load(settings, progress=_say)
            _say(f"models ready in {time.perf_counter() - started:.1f} s")
        web = build_app(settings, models=models)
        # What is loaded by now (models, libraries) lives as long as the process: out of the
        # collector's sight, a full collection no longer walks it while the event loop waits
        # (~0.2 s every ~40 s at three interviews, docs/benchmarks.md).
        gc.collect()
        gc.freeze()
        config = uvicorn.Config(web, host=settings.host, port=settings.port, log_level="warning", ws_max_size=1 << 20)
        server = uvicorn.Server(config)

        async def run() -> None:
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.05)
            if server.started:
                public = settings.public_url or f"http://{settings.host}:{settings.port}"
                _say(f"ready: open {public}/ in your browser (Ctrl+C to stop)")
            await task

        with asyncio.Runner(loop_factory=_loop_factory(settings.event_loop)) as runner:
            runner.run(run())
    finally:
        if pg is not None:
            pg.stop()


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def agent(
    ctx: typer.Context,
    mode: str = typer.Argument(
        "start", help="start (production) or dev (debug logs, no load limit); further options go to livekit-agents."
    ),
) -> None:
    """Run the interviewer as a LiveKit Agents worker (LIVEKIT_URL, LIVEKIT_API_KEY, LIVEKIT_API_SECRET)."""
    from greenroom.livekit_worker import MODES, missing_settings, run_worker

    if mode not in MODES:
        raise typer.BadParameter(f"choose one of: {', '.join(MODES)}", param_hint="MODE")
    settings = Settings()
    if missing := missing_settings(settings):
        _say(f"the LiveKit worker needs {', '.join(missing)} to be set")
        raise typer.Exit(code=2)
    url, pg = _database_url(settings)
    settings.database_url = url
    try:
        run_worker(settings, mode, list(ctx.args), progress=_say)
    finally:
        if pg is not None:
            pg.stop()


@app.command()
def migrate() -> None:
    """Apply pending database migrations to DATABASE_URL (or the embedded database)."""
    import asyncpg

    from db.migrate import apply_migrations

    settings = Settings()
    url, pg = _database_url(settings)
    try:

        async def run() -> list[str]:
            conn = await asyncpg.connect(url)
            try:
                return await apply_migrations(conn)
            finally:
                await conn.close()

        applied = asyncio.run(run())
        _say(f"applied {len(applied)} migration(s): {', '.join(applied) or 'none pending'}")
    finally:
        if pg is not None:
            pg.stop()


@app.command()
def score(
    question: str = typer.Option(..., "--question", "-q", help="The interview question."),
    answer: str = typer.Option(
        ..., "--answer", "-a", help="Your answer; '-' reads it from standard input."
    ),
    category: str | None = typer.Option(
        None,
        help="Rubric: behavioral, technical, system_design, case or mmi "
        "(default: the bank question's category, else behavioral).",
    ),
    question_id: str | None = typer.Option(
        None,
        "--question-id",
        help="A question bank id: supplies category, time limit and example answer.",
    ),
    time_limit: float | None = typer.Option(
        None, "--time-limit", min=1, help="Seconds allowed (default: the bank's, else the category's)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (the POST /v1/score shape)."),
) -> None:
    """Score a typed answer on its category's rubric, with the evaluator the server uses."""
    from scoring.factory import close_evaluator, make_evaluator
    from scoring.practice import AnswerScorePublic, PracticeInputError, practice_input

    if answer == "-":
        answer = sys.stdin.read()
    bank = None
    if question_id is not None:
        from agent.question_bank import QuestionBank, QuestionBankError

        try:
            bank = QuestionBank.load()
        except QuestionBankError as exc:
            raise typer.BadParameter(f"the question bank could not be loaded: {exc}") from None
    try:
        item = practice_input(
            question=question,
            answer=answer,
            category=category,
            question_id=question_id,
            time_limit_s=time_limit,
            bank=bank,
        )
    except PracticeInputError as exc:
        raise typer.BadParameter(str(exc)) from None

    async def run():
        evaluator = make_evaluator(Settings())
        try:
            return await evaluator.evaluate(item)
        finally:
            await close_evaluator(evaluator)

    result = AnswerScorePublic.of(asyncio.run(run()), item.example_answer)
    if as_json:
        typer.echo(result.model_dump_json(indent=2))
        return
    typer.echo(_score_table(result))


def _score_table(result) -> str:
    """A scored answer as a plain-text table a candidate can read in a terminal."""
    import textwrap

    label_width = max(len(d.dimension) for d in result.dimensions) + 2
    reason_width = 72
    lines = [f"{'dimension':<{label_width}}score  reason", "-" * (label_width + 7 + reason_width)]
    for d in result.dimensions:
        wrapped = textwrap.wrap(d.reason, reason_width) or [""]
        lines.append(f"{d.dimension:<{label_width}}{d.score:>5}  {wrapped[0]}")
        lines += [" " * (label_width + 7) + more for more in wrapped[1:]]
    lines.append("-" * (label_width + 7 + reason_width))
    likely = (
        f"; likely {result.band_low}–{result.band_high}"
        if result.band_low is not None and result.band_high is not None
        else ""
    )
    lines.append(
        f"{'overall':<{label_width}}{result.overall:>5}  {result.band.replace('_', '-')}{likely} "
        f"({result.category}, {result.evaluator})"
    )
    if result.fallback_reason:
        lines.append(
            f"note: the LLM evaluator failed ({result.fallback_reason}); "
            "the offline evaluator scored this."
        )
    for title, items in (("Strengths", result.strengths), ("To improve", result.improvements)):
        if items:
            lines.append(f"\n{title}:")
            lines += [
                textwrap.fill(item, 90, initial_indent="  - ", subsequent_indent="    ")
                for item in items
            ]
    if result.stronger_answer:
        lines.append("\nA stronger answer:")
        lines.append(
            textwrap.fill(result.stronger_answer, 90, initial_indent="  ", subsequent_indent="  ")
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(app())
