"""The one command: serve, call (simulate a caller), bench, kb."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from voiceagent.cli_bench import bench
from voiceagent.cli_data import app as data_app
from voiceagent.cli_eval import app as eval_app
from voiceagent.cli_kb import app as kb_app
from voiceagent.cli_recordings import app as recordings_app
from voiceagent.config import load_settings

app = typer.Typer(help="Real-time phone voice agent for ByteAI Customer Support.", no_args_is_help=True)
console = Console()
app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
app.add_typer(recordings_app, name="recordings")
app.add_typer(data_app, name="data")


def _configure_logging(level: str) -> None:
    from voiceagent.observability.logging import configure_logging

    configure_logging(level)  # redacted, no local variables in tracebacks (docs/privacy.md)


@app.callback()
def _every_command() -> None:
    """Every sub-command logs through the one redacting set-up; a command may set its own level after."""
    import os

    level = os.environ.get("LOG_LEVEL", "INFO").strip().upper()
    _configure_logging(level if level in ("TRACE", "DEBUG", "INFO", "WARNING", "ERROR") else "INFO")


@app.command()
def serve(
    host: str = typer.Option(None, help="Interface to listen on (default from HOST, 0.0.0.0)"),
    port: int = typer.Option(None, help="Port (default from PORT, 8000)"),
    log_level: str = typer.Option(None, help="DEBUG, INFO, WARNING"),
    workers: int = typer.Option(None, min=1, help="Processes taking calls on the one port, each loading the models "
                                "once (default from WORKERS, 1); above 1 they share limits and stream tokens through "
                                "REDIS_URL, else a private redis-server"),
):
    """Run the voice agent server (Twilio webhook + media WebSocket)."""
    from voiceagent.providers.gcp_secrets import GcpSecretSource
    from voiceagent.secrets import load_settings_with_secrets
    from voiceagent.server import create_app, make_server

    # SECRETS_BACKEND=gcp: keys and tokens come from Secret Manager, over the environment's (docs/deploy.md).
    settings, secrets = load_settings_with_secrets(GcpSecretSource.for_settings)
    _configure_logging(log_level or settings.log_level)
    host = host or settings.host
    port = port or settings.port
    console.print(f"[bold]voiceagent[/bold] on http://{host}:{port}  stack: {settings.stack_summary()}")
    console.print("Twilio voice webhook: POST /webhook/voice   media stream: /ws/media   health: /health")
    workers = workers or settings.workers
    if workers > 1:  # each worker reads the secrets and keeps them current itself
        from voiceagent.workers import run_workers

        raise typer.Exit(run_workers(settings, host, port, workers, log_level or settings.log_level,
                                     announce=console.print))
    if secrets:
        secrets.start()
    # SIGTERM (a deploy) drains: calls in progress go on for up to DRAIN_SECS, new ones hear the busy line.
    try:
        make_server(create_app(settings), host, port).run()
    finally:
        if secrets:
            secrets.stop()


@app.command()
def call(
    say: list[str] = typer.Option(None, "--say", "-s", help="A caller line, spoken by the local voice. "
                                  "'!' first = barge in; '#12' = press keys; '[pause 400]' = 400 ms silence"),
    wav: list[Path] = typer.Option(None, "--wav", help="A caller turn from a WAV file"),
    url: str = typer.Option(None, help="Media WebSocket of a running server, e.g. ws://127.0.0.1:8000/ws/media "
                            "(default: start one in this process)"),
    caller_number: str = typer.Option("+15550100", help="The caller's number (Twilio From)"),
    save: Path = typer.Option(None, help="Save both sides of the call to this stereo WAV"),
    voice: str = typer.Option("piper", help="The caller's voice: piper, or a Debian voice (espeak-us, slt, rms, "
                              "awb, ...) with -slow/-fast and -noisy, e.g. slt-slow-noisy"),
    line_noise: float = typer.Option(0.0, min=0.0, max=1.0, help="A noisy line: pink noise at this volume (sox's, "
                                     "0.06 is about 20 dB under speech) under the whole call, silences included"),
):
    """Simulate a phone call exactly as Twilio would, and print its timeline and latencies."""
    import asyncio

    from rich.table import Table

    from voiceagent.providers.speech_models import SpeechModels
    from voiceagent.runtime import AgentRuntime
    from voiceagent.simulate.run import local_server, parse_turns, simulate_call, summarize
    from voiceagent.simulate.voices import caller_voice
    from voiceagent.simulate.voices import line_noise as noisy_line

    settings = load_settings()
    _configure_logging("WARNING")

    async def main():
        runtime = None if url else await asyncio.to_thread(AgentRuntime.load, settings)
        models = (runtime.speech_models if runtime and runtime.speech_models else
                  await asyncio.to_thread(SpeechModels.load))
        turns = parse_turns(say or [], wav or [], caller_voice(voice, models.piper_voice))
        token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None
        noise = noisy_line(line_noise) if line_noise else None
        if url:
            return await simulate_call(url, turns, models, caller_number=caller_number, save=save, auth_token=token,
                                       line_noise=noise)
        async with local_server(runtime, settings) as local_url:
            return await simulate_call(local_url, turns, models, caller_number=caller_number, save=save,
                                       auth_token=token, line_noise=noise)

    report = asyncio.run(main())
    table = Table(title=f"Call {report.result.call_sid[:10]}…")
    table.add_column("t (s)", justify="right")
    table.add_column("who")
    table.add_column("what")
    for at, who, text in report.timeline():
        table.add_row(f"{at:6.2f}", who, text)
    console.print(table)
    for index, turn in enumerate(report.result.turns, 1):
        latency = f"{turn.latency:.2f} s" if turn.latency is not None else "no answer"
        console.print(f"turn {index}: response latency {latency}")
    figures = summarize(report.latencies)
    if figures:
        console.print(f"median {figures['median']:.2f} s, p95 {figures['p95']:.2f} s over {figures['turns']} turns")
    ending = "agent hung up" if report.result.hung_up_by_agent else "caller hung up"
    console.print(f"{ending}; marks echoed {report.result.marks_sent_back}, clears {report.result.clears}")
    if save:
        console.print(f"saved {save}")


app.command()(bench)  # in cli_bench.py


@app.command()
def emulate(
    env_file: Path = typer.Option(None, help="Also write the environment that points a server here to this file"),
    stt_final_ms: float = typer.Option(300, help="Deepgram: end of speech -> final transcript (median)"),
    llm_first_token_ms: float = typer.Option(400, help="Anthropic: request -> first token (median)"),
    tts_first_audio_ms: float = typer.Option(250, help="ElevenLabs: text -> first audio (median)"),
):
    """Run local emulators of Deepgram, Anthropic, ElevenLabs, OpenAI (embeddings, chat) and Twilio REST."""
    import asyncio

    from voiceagent.emulators.run import start_emulators
    from voiceagent.providers.speech_models import SpeechModels

    _configure_logging("WARNING")

    async def main():
        models = await asyncio.to_thread(SpeechModels.load)
        async with start_emulators(models, stt_final_ms=stt_final_ms, llm_first_token_ms=llm_first_token_ms,
                                   tts_first_audio_ms=tts_first_audio_ms) as emulators:
            env = emulators.env()
            if env_file:
                env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items()))
            console.print("Emulators running. Point the server at them with:")
            for key, value in env.items():
                console.print(f"  export {key}={value}")
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass


@app.command("config")
def config_reference(
    markdown: bool = typer.Option(True, "--markdown", help="Markdown tables, one per group (the only format)"),
):
    """Print the configuration reference (every setting, its default and what it accepts) from the code."""
    from voiceagent.config import settings_reference_markdown

    typer.echo(settings_reference_markdown(), nl=False)


if __name__ == "__main__":
    app()
