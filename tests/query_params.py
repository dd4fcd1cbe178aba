"""Parameters of the named queries in the golden runs, shared by the embedded and Virtuoso tests.

A query not listed in the overrides takes the graph's defaults for its parameters.
"""

from __future__ import annotations

SMALL_DEFAULT = {
    "stage": "senior-level",
    "role": "Research Scientist",
    "role_a": "Data Scientist",
    "role_b": "research scientist",
    "requirement": "PyTorch",
    "text": "science",
}
SMALL_OVERRIDES: dict[str, dict[str, str]] = {"ladder": {"role": "Data Scientist"}}
SEED_DEFAULT = {
    "stage": "Senior-Level",
    "role": "Research Fellow",
    "role_a": "Research Fellow",
    "role_b": "Machine Learning Research Engineer",
    "requirement": "PyTorch",
    "text": "research",
}
SEED_OVERRIDES: dict[str, dict[str, str]] = {"ladder": {"role": "Research Assistant"}}


def params_for(name: str, default: dict[str, str], overrides: dict[str, dict[str, str]]) -> dict:
    """Return the golden-run parameters of one catalogue query."""
    from mlkg.queries import load_catalogue

    chosen = overrides.get(name, {})
    return {p.name: chosen.get(p.name, default[p.name]) for p in load_catalogue()[name].params}
