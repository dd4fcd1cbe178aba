"""The exceptions mlkg raises.

Every error the library raises on bad input is an :class:`MlkgError`; the CLI turns them into a
one-line message and an exit code (``exit_code``), never a traceback.
"""

from __future__ import annotations


class MlkgError(Exception):
    """Base class of every error mlkg raises on purpose.

    ``exit_code`` is what the CLI exits with when this error reaches it.
    """

    exit_code: int = 2


class DocumentError(MlkgError):
    """A source document cannot be read or used (missing, binary, too large, ...)."""


class BuildError(MlkgError):
    """A build cannot be made (no usable document, unwritable output, locked)."""

    exit_code = 1


class BuildLockedError(BuildError):
    """Another build of the same output folder is running."""

    exit_code = 3


class ValidationError(BuildError):
    """The built graph does not conform to the SHACL shapes."""


class GraphNotFoundError(MlkgError):
    """No build exists where a graph was expected."""


class VocabularyError(MlkgError):
    """The ontology or SKOS vocabulary files are missing or malformed."""


class QueryError(MlkgError):
    """A SPARQL query is unknown, malformed, forbidden or failed."""


class QueryTimeoutError(QueryError):
    """A query ran past its deadline and was stopped."""

    exit_code = 4


class RoleNotFoundError(MlkgError):
    """No role matches the name given; ``suggestions`` holds close labels."""

    def __init__(self, message: str, suggestions: list[str] | None = None) -> None:
        super().__init__(message)
        self.suggestions = suggestions or []


class AmbiguousRoleError(MlkgError):
    """Several roles match the name given; ``candidates`` lists their labels."""

    def __init__(self, message: str, candidates: list[str] | None = None) -> None:
        super().__init__(message)
        self.candidates = candidates or []


class NoRouteError(MlkgError):
    """No career route connects two roles."""

    exit_code = 1


class StoreError(MlkgError):
    """A remote SPARQL store failed (unreachable, refused, timed out, wrong credentials)."""
