"""What the cluster-scoped collections (workspaces, templates) share: iterate, len, in, get."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, ClassVar, Generic, TypeVar

from .errors import NotFound, warn_missing
from .handle import Handle
from .resources import Kind, Objects

if TYPE_CHECKING:
    from .connection import Client

H = TypeVar("H", bound=Handle)


class Collection(Generic[H]):
    handle: ClassVar[type]

    @property
    def kind(self) -> Kind:
        return self.handle.kind

    def __init__(self, client: Client):
        self._client = client

    def _objects(self) -> Objects:
        return self._client.objects(self.kind)

    def __iter__(self) -> Iterator[H]:
        return iter([self.handle(self._client, obj) for obj in self._objects().list()])

    def __len__(self) -> int:
        return len(self._objects().list())

    def __contains__(self, name: object) -> bool:
        try:
            self._objects().get(str(name))
        except NotFound:
            return False
        return True

    def __getitem__(self, name: str) -> H:
        """The object called name; NotFound (a LookupError) when there is none."""
        return self.handle(self._client, self._objects().get(name))

    def get(self, name: str) -> H | None:
        """The object called name, or None with a NotFoundWarning."""
        try:
            return self.handle(self._client, self._objects().get(name))
        except NotFound:
            warn_missing(f"{self.kind.name} {name}")
            return None
