"""``mlkg path``, ``mlkg gap`` and ``mlkg next``: career routes on the command line.

Thin commands over :mod:`mlkg.paths`; networkx and rdflib are imported only when a command runs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from mlkg.cli.common import graph_option, handle_errors, store_option

if TYPE_CHECKING:
    from mlkg.paths import Gap, NextRole, Route, Step

_CLASS_TITLES = {
    "TechnicalSkill": "technical skills",
    "SoftSkill": "soft skills",
    "Skill": "skills",
    "Tool": "tools",
    "ProgrammingLanguage": "programming languages",
    "Degree": "degrees",
}

_FORMATS = click.Choice(["text", "json"], case_sensitive=False)

format_option = click.option(
    "--format",
    "output_format",
    type=_FORMATS,
    default="text",
    show_default=True,
    help="text for people, json for programs.",
)
threshold_option = click.option(
    "--threshold",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    metavar="J",
    help="Jaccard similarity of requirements for a lateral step (default 0.3; with --lateral).",
)


def _graph(graph_dir: Path | None, store_url: str | None) -> Any:
    """Return what the route functions read: the build's Oxigraph store itself (no rdflib
    import, so the command answers sooner), or the remote store of ``--store``."""
    if store_url:
        from mlkg.store import connect

        return connect(graph_dir, store_url)
    from mlkg.store import open_store

    return open_store(graph_dir)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))


def _gain_text(gain: dict[str, tuple[str, ...]] | Any) -> str:
    parts = [f"{kind}: {', '.join(labels)}" for kind, labels in gain.items() if labels]
    return "; ".join(parts) if parts else "nothing new"


def _step_lines(number: int, step: Step) -> list[str]:
    kind = "" if step.kind == "ladder" else f" [lateral, inferred, similarity {step.similarity}]"
    lines = [f"  {number}. {step.source} → {step.target}{kind}"]
    lines.append(f"     gain:   {_gain_text(step.gain)}")
    if step.salary_change is not None:
        lines.append(f"     salary: {step.salary_change}")
    if step.evidence:
        for item in step.evidence[:3]:
            where = item.file or item.title or item.document_id or "?"
            section = f", {item.section}" if item.section else ""
            lines.append(f'     source: "{item.sentence}" ({where}{section})')
        if len(step.evidence) > 3:
            lines.append(f"     (and {len(step.evidence) - 3} more sentences)")
    elif step.kind == "lateral":
        lines.append("     source: none, inferred from shared requirements")
    return lines


def _route_text(route: Route, number: int | None = None) -> str:
    unit = "cost" if route.weighted else "steps"
    head = f"Route {number}: " if number is not None else ""
    lines = [f"{head}{' → '.join(route.path)}  ({unit}: {route.cost})"]
    if not route.steps:
        lines.append(f"  {route.source} is already the target: nothing to do.")
    for index, step in enumerate(route.steps, start=1):
        lines.extend(_step_lines(index, step))
    return "\n".join(lines)


@click.command("path")
@click.argument("from_role", metavar="FROM")
@click.argument("to_role", metavar="TO")
@click.option(
    "--k",
    "k",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="How many routes to list, best first.",
)
@click.option(
    "--ladder-only/--lateral",
    "ladder_only",
    default=True,
    show_default=True,
    help="Use only documented ladder steps, or also inferred lateral steps.",
)
@click.option(
    "--weighted",
    is_flag=True,
    help="Minimise the skill gap and stage jumps instead of the number of steps.",
)
@threshold_option
@format_option
@graph_option
@store_option
@handle_errors
def path(
    from_role: str,
    to_role: str,
    k: int,
    ladder_only: bool,
    weighted: bool,
    threshold: float | None,
    output_format: str,
    graph_dir: Path | None,
    store_url: str | None,
) -> None:
    """Career route(s) from role FROM to role TO.

    Roles are named by label or alternative label, case-insensitive. Each step shows the next
    role, what to gain, the salary change and the sentence that states the step.
    """
    from mlkg.paths import DEFAULT_THRESHOLD, shortest_route

    graph = _graph(graph_dir, store_url)
    routes = shortest_route(
        graph,
        from_role,
        to_role,
        k=k,
        lateral=not ladder_only,
        weighted=weighted,
        threshold=threshold if threshold is not None else DEFAULT_THRESHOLD,
    )
    if output_format == "json":
        _emit_json(routes[0].to_dict() if k == 1 else [route.to_dict() for route in routes])
        return
    if k == 1:
        click.echo(_route_text(routes[0]))
        return
    click.echo("\n\n".join(_route_text(route, i) for i, route in enumerate(routes, start=1)))


def _gap_text(gap: Gap) -> str:
    def block(title: str, groups: Any) -> list[str]:
        lines = [f"{title}:"]
        if not groups:
            lines.append("  (nothing)")
        for name, labels in groups.items():
            lines.append(f"  {_CLASS_TITLES.get(name, name)}: {', '.join(labels)}")
        return lines

    lines = [f"{gap.target} vs {gap.source}: {gap.size} requirement(s) to gain"]
    lines += block(f"{gap.target} requires, {gap.source} lacks", gap.missing)
    lines += block("Shared", gap.shared)
    lines += block(f"Only {gap.source}", gap.extra)
    if gap.salary_change is not None:
        lines.append(f"Salary: {gap.salary_change}")
    return "\n".join(lines)


@click.command("gap")
@click.argument("role_a", metavar="A")
@click.argument("role_b", metavar="B")
@format_option
@graph_option
@store_option
@handle_errors
def gap(
    role_a: str, role_b: str, output_format: str, graph_dir: Path | None, store_url: str | None
) -> None:
    """What role B requires that role A lacks, and what they share, grouped by class."""
    from mlkg.paths import skill_gap

    result = skill_gap(_graph(graph_dir, store_url), role_a, role_b)
    if output_format == "json":
        _emit_json(result.to_dict())
    else:
        click.echo(_gap_text(result))


def _next_text(role: str, found: list[NextRole]) -> str:
    if not found:
        return f"No role is one step away from {role}."
    lines = [f"One step from {role}:"]
    for item in found:
        step = item.step
        tag = "ladder" if step.kind == "ladder" else f"lateral, similarity {step.similarity}"
        lines.append(f"  {item.rank}. {item.label}  ({tag}; cost {step.cost})")
        lines.append(f"     gain:   {_gain_text(step.gain)}")
        if step.salary_change is not None:
            lines.append(f"     salary: {step.salary_change}")
        if step.evidence:
            lines.append(f'     source: "{step.evidence[0].sentence}"')
    return "\n".join(lines)


@click.command("next")
@click.argument("role", metavar="ROLE")
@click.option("--lateral", is_flag=True, help="Also list inferred lateral steps.")
@threshold_option
@format_option
@graph_option
@store_option
@handle_errors
def next_roles(
    role: str,
    lateral: bool,
    threshold: float | None,
    output_format: str,
    graph_dir: Path | None,
    store_url: str | None,
) -> None:
    """Roles one step away from ROLE, ranked: documented steps first, cheaper first."""
    from mlkg import paths

    graph = _graph(graph_dir, store_url)
    found = paths.next_roles(
        graph,
        role,
        lateral=lateral,
        threshold=threshold if threshold is not None else paths.DEFAULT_THRESHOLD,
    )
    if output_format == "json":
        _emit_json([item.to_dict() for item in found])
        return
    if found:
        label = found[0].step.source
    else:  # resolved once already (cached view), so this cannot fail
        view = paths.load_view(graph)
        label = view.nodes[paths.resolve_role(view, role)]["label"]
    click.echo(_next_text(label, found))
