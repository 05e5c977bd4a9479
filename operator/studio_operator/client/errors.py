"""The exceptions the SDK raises: one per thing a caller may want to handle differently."""

from __future__ import annotations

import contextlib
import json
import warnings
from collections.abc import Iterator
from typing import TypeVar

import pydantic
import urllib3
from kubernetes.client.exceptions import ApiException

M = TypeVar("M", bound=pydantic.BaseModel)


class StudioError(Exception):
    """Base of every error the SDK raises."""


class NotFound(StudioError, LookupError):
    """The object does not exist."""


class AlreadyExists(StudioError):
    """An object of that name exists already."""


class Conflict(StudioError):
    """Someone else changed the object at the same time, again and again."""


class Forbidden(StudioError):
    """RBAC or an admission webhook refused the request; the message says why."""


class Invalid(StudioError, ValueError):
    """The API server's schema or validation rules refused the object; the message names the field."""


class Unreachable(StudioError):
    """The API server (or another endpoint) did not answer."""


class ApiError(StudioError):
    """Any other error answer from the API server."""

    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class OperationFailed(StudioError):
    """The operator reports that the change cannot be carried out (e.g. the studio went Failed)."""


class WaitTimeout(StudioError, TimeoutError):
    """The change was not carried out in time; it may still be."""


def _message(exc: ApiException, unserved: str) -> str:
    try:
        body = json.loads(exc.body or "")
    except (TypeError, ValueError):
        if exc.status == 404:  # a plain-text 404: the API server does not serve the resource at all
            return "the API server does not serve this resource" + (f": {unserved}" if unserved else "")
        return f"{exc.status} {exc.reason}".strip()
    return body.get("message") or f"{exc.status} {exc.reason}"


def from_api_exception(exc: ApiException, unserved: str = "") -> StudioError:
    """`unserved`: the likely cause when the API server does not serve the resource at all."""
    message = _message(exc, unserved)
    if exc.status == 404:
        return NotFound(message)
    if exc.status == 409:
        return AlreadyExists(message) if "already exists" in message else Conflict(message)
    if exc.status in (401, 403):
        return Forbidden(message)
    if exc.status in (400, 422):
        return Invalid(message)
    return ApiError(message, exc.status)


@contextlib.contextmanager
def api_errors(unserved: str = "") -> Iterator[None]:
    """Turns the kubernetes client's exceptions into the SDK's."""
    try:
        yield
    except ApiException as exc:
        raise from_api_exception(exc, unserved) from None
    except urllib3.exceptions.HTTPError as exc:
        raise Unreachable(f"cannot reach the API server: {exc}") from None


class NotFoundWarning(UserWarning):
    """A lookup by name found nothing and returned None."""


def warn_missing(what: str) -> None:
    # stacklevel 3: point at the caller of the SDK's lookup, not at the lookup.
    warnings.warn(f"{what} not found", NotFoundWarning, stacklevel=3)


def validated(model: type[M], **fields: object) -> M:
    """model(**fields), with pydantic's validation error as the SDK's Invalid."""
    try:
        return model(**fields)
    except pydantic.ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or model.__name__}: {e['msg']}" for e in exc.errors())
        raise Invalid(f"invalid {model.__name__}: {problems}") from None
