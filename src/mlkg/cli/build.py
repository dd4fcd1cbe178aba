"""``mlkg build``, ``mlkg stats``, ``mlkg explain`` and ``mlkg validate``."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import click

from mlkg.cli.common import graph_option, handle_errors, store_option
from mlkg.documents import MAX_DOCUMENT_BYTES


def _echo_summary(summary: dict[str, Any]) -> None:
    documents = summary.get("documents", [])
    click.echo(f"Graph: {summary.get('out')}")
    click.echo(f"Documents: {len(documents)}")
    for document in documents:
        click.echo(f"  {document['file']}: {document['primary_role']}")
    entities = summary.get("entities", {})
    click.echo(f"Entities: {sum(entities.values())}")
    for name, count in entities.items():
        click.echo(f"  {name:<20} {count:>6}")
    facts = summary.get("facts", {})
    click.echo(f"Facts: {sum(facts.values())}")
    for name, count in facts.items():
        click.echo(f"  {name:<20} {count:>6}")
    click.echo(f"Salary statements: {summary.get('salaries', 0)}")
    click.echo(f"Triples: {summary.get('triples', 0)}")
    if summary.get("seconds") is not None:
        cached = summary.get("cached", 0)
        note = f" ({cached} documents from cache)" if cached else ""
        click.echo(f"Time: {summary['seconds']:.2f} s{note}")


def _warn_skipped(summary: dict[str, Any]) -> None:
    for skipped in summary.get("skipped", []):
        click.echo(f"mlkg: warning: skipped {skipped['file']}: {skipped['reason']}", err=True)
    for duplicate in summary.get("duplicates", []):
        click.echo(
            f"mlkg: warning: {duplicate['file']} is the same document as {duplicate['same_as']}: "
            "built once",
            err=True,
        )


@click.command()
@click.option(
    "--docs",
    "docs",
    multiple=True,
    type=click.Path(path_type=Path),
    help="A document or folder of documents (repeatable; default: the bundled corpus).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="Build folder to write (default: data/build).",
)
@click.option(
    "--strict", is_flag=True, help="Fail on any unusable document instead of skipping it."
)
@click.option(
    "--max-bytes",
    type=click.IntRange(min=1),
    default=MAX_DOCUMENT_BYTES,
    show_default=True,
    help="Size limit of one document.",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Processes for extraction and the SHACL check (0: one per core; small builds use one).",
)
@click.option("--no-validate", is_flag=True, help="Skip the SHACL check (faster on huge corpora).")
@click.option("--no-cache", is_flag=True, help="Re-extract every document, even unchanged ones.")
@click.option(
    "--force", is_flag=True, help="Build again even when nothing changed since the last build."
)
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors and warnings.")
@handle_errors
def build(
    docs: tuple[Path, ...],
    out: Path | None,
    strict: bool,
    max_bytes: int,
    jobs: int,
    no_validate: bool,
    no_cache: bool,
    force: bool,
    quiet: bool,
) -> None:
    """Build the knowledge graph from documents.

    Reads plain-text and Markdown documents, extracts roles, skills, tools, venues, stages,
    degrees, fields, organisations and salaries with the sentence behind every fact, and writes
    OUT/mlkg.ttl (Turtle, byte-identical for the same input) and an embedded Oxigraph store.
    The previous build stays in place until the new one is complete; when nothing changed
    since it (documents, vocabulary, ontology, mlkg), it is left as it is.
    """
    from mlkg.build import build as run_build
    from mlkg.resources import corpus_dir, default_build_dir

    paths = list(docs) or [corpus_dir()]
    target = out or default_build_dir()
    workers = jobs or os.cpu_count() or 1
    progress = None
    bar: Any = None
    if not quiet and sys.stderr.isatty():
        from rich.progress import Progress

        bar = Progress(transient=True)
        bar.start()
        task = bar.add_task("extracting", total=None)

        def progress(done: int, total: int, step: str) -> None:
            bar.update(task, completed=done, total=total, description=step)

    try:
        summary = run_build(
            paths,
            target,
            strict=strict,
            max_bytes=max_bytes,
            jobs=workers,
            validate=not no_validate,
            use_cache=not no_cache,
            progress=progress,
            force=force,
        )
    finally:
        if bar is not None:
            bar.stop()
    data = summary.to_json()
    _warn_skipped(data)
    if not quiet:
        if summary.up_to_date:
            click.echo("Up to date: nothing changed since the last build (--force builds again).")
        _echo_summary(data)


@click.command()
@graph_option
@handle_errors
def stats(graph_dir: Path | None) -> None:
    """Print the summary of an existing build."""
    from mlkg.build import read_summary

    _echo_summary(read_summary(graph_dir))


@click.command()
@click.argument("role")
@graph_option
@store_option
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@handle_errors
def explain(role: str, graph_dir: Path | None, store_url: str | None, fmt: str) -> None:
    """List every fact about ROLE with the sentence and document it comes from."""
    import json

    from mlkg.explain import explain_role

    facts = explain_role(role, graph_dir=graph_dir, store_url=store_url)
    if fmt == "json":
        click.echo(json.dumps(facts, indent=2, ensure_ascii=False))
        return
    current = None
    for fact in facts:
        if fact["predicate"] != current:
            current = fact["predicate"]
            click.echo(f"{current}:")
        click.echo(f"  {fact['object']}")
        for evidence in fact["evidence"]:
            click.echo(f"    \u201c{evidence['text']}\u201d")
            click.echo(
                f"      {evidence['file']} \u00a7 {evidence['section']} "
                f"[{evidence['start']}:{evidence['end']}]"
            )


@click.command()
@graph_option
@store_option
@handle_errors
def validate(graph_dir: Path | None, store_url: str | None) -> None:
    """Check a build (or a SPARQL server's graph) against the SHACL shapes; exit 1 if it fails."""
    from mlkg.errors import ValidationError
    from mlkg.validate import validate_build, validate_remote

    report = validate_remote(store_url) if store_url else validate_build(graph_dir)
    if not report.conforms:
        raise ValidationError("the graph does not conform:\n" + report.summary(limit=50))
    click.echo("The graph conforms to the SHACL shapes.")
