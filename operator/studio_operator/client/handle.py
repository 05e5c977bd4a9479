"""What the handles on one object (Workspace, CodeStudio, Template) share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar

from .resources import Kind, Objects

if TYPE_CHECKING:
    from .connection import Client

M = TypeVar("M")


class Handle(Generic[M]):
    """One object. `raw` is the object as last read (a dict); the methods read the server afresh."""

    kind: ClassVar[Kind]

    def __init__(self, client: Client, obj: dict[str, Any]):
        self._client = client
        self.raw = obj

    @property
    def name(self) -> str:
        return self.raw["metadata"]["name"]

    def _where(self) -> str | None:
        return self.raw["metadata"].get("namespace")

    def __repr__(self) -> str:
        where = self._where()
        return f"<{type(self).__name__} {where + '/' if where else ''}{self.name}>"

    def _objects(self) -> Objects:
        return self._client.objects(self.kind)

    def _read(self) -> dict[str, Any]:
        self.raw = self._objects().get(self.name, self._where())
        return self.raw

    def info(self) -> M:
        """The whole object, typed (the API model), read afresh."""
        return self.kind.model.model_validate(self._read())
