"""ArtifactStore: artifacts and data under one fsspec root; writes land atomically."""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import fsspec
from fsspec.implementations.local import LocalFileSystem

from mlpilot.core.errors import InvalidInput, NotFound


@dataclass(frozen=True)
class S3Options:
    """How to reach an S3-compatible store; None leaves a value to the AWS SDK's environment and files."""

    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    region: str | None = None

    def fsspec_kwargs(self) -> dict[str, str | dict[str, str]]:
        """The keyword arguments s3fs takes."""
        kwargs: dict[str, str | dict[str, str]] = {}
        if self.access_key_id:
            kwargs["key"] = self.access_key_id
        if self.secret_access_key:
            kwargs["secret"] = self.secret_access_key
        if self.endpoint_url:
            kwargs["endpoint_url"] = self.endpoint_url
        if self.region:
            kwargs["client_kwargs"] = {"region_name": self.region}
        return kwargs

    def delta_options(self) -> dict[str, str]:
        """The same settings as the storage options delta-rs (and polars' Delta reader) take."""
        options = {"AWS_ENDPOINT_URL": self.endpoint_url, "AWS_ACCESS_KEY_ID": self.access_key_id,
                   "AWS_SECRET_ACCESS_KEY": self.secret_access_key, "AWS_REGION": self.region}
        found = {name: value for name, value in options.items() if value}
        if self.endpoint_url and self.endpoint_url.startswith("http://"):
            found["AWS_ALLOW_HTTP"] = "true"
        return found


class ArtifactStore:
    """Keys are relative slash-separated paths below the root URL (a local folder or any fsspec URL)."""

    def __init__(self, root_url: str, cache_dir: Path, *, s3: S3Options | None = None) -> None:
        self.s3 = s3 or S3Options()
        is_s3 = root_url.startswith(("s3://", "s3a://"))
        self.fs, root = fsspec.core.url_to_fs(root_url, **(self.s3.fsspec_kwargs() if is_s3 else {}))
        # What delta-rs needs to open the same tables (it does not go through fsspec).
        self.delta_options: dict[str, str] = self.s3.delta_options() if is_s3 else {}
        self.root = root.rstrip("/")
        self.cache_dir = Path(cache_dir)
        self.is_local = isinstance(self.fs, LocalFileSystem)
        if self.is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> str:
        parts = [p for p in key.split("/") if p]
        if not parts or any(p in (".", "..") for p in parts):
            raise InvalidInput(f"Invalid storage key {key!r}.")
        return f"{self.root}/{'/'.join(parts)}"

    def path(self, key: str) -> str:
        """Return the path of `key` inside the store's filesystem (for libraries that open it themselves)."""
        return self._path(key)

    def exists(self, key: str) -> bool:
        """Return whether an object or folder is stored under `key`."""
        return self.fs.exists(self._path(key))

    def put_bytes(self, key: str, data: bytes) -> str:
        """Store `data` under `key` atomically; return its SHA-256."""
        with self.writer(key) as tmp:
            tmp.write_bytes(data)
        return hashlib.sha256(data).hexdigest()

    def get_bytes(self, key: str) -> bytes:
        """Return the bytes stored under `key`."""
        path = self._path(key)
        if not self.fs.exists(path):
            raise NotFound(f"Artifact {key!r} is missing from the store.")
        return self.fs.cat_file(path)

    @contextmanager
    def writer(self, key: str) -> Iterator[Path]:
        """Yield a local temporary file; on success it is moved to `key`, on failure removed."""
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = self.cache_dir / f".upload-{uuid.uuid4().hex}"
        try:
            yield tmp
            self._publish(tmp, key)
        finally:
            if tmp.is_dir():
                shutil.rmtree(tmp, ignore_errors=True)
            else:
                tmp.unlink(missing_ok=True)

    def put_dir(self, key: str, local_dir: Path) -> None:
        """Copy a local folder under `key` atomically (folder appears whole or not at all)."""
        self._publish(Path(local_dir), key, copy=True)

    def _publish(self, local: Path, key: str, *, copy: bool = False) -> None:
        target = self._path(key)
        if self.is_local:
            Path(target).parent.mkdir(parents=True, exist_ok=True)
            staging = f"{target}.tmp-{uuid.uuid4().hex}"
            if local.is_dir():
                shutil.copytree(local, staging)
            elif copy:
                shutil.copy2(local, staging)
            else:
                shutil.move(str(local), staging)
            Path(staging).replace(target) if not Path(target).exists() else self._replace(staging, target)
        else:
            # An object store has no atomic rename (a "move" is a copy per object), so objects go straight to their
            # keys: each PUT is atomic, a folder is never referenced before the metadata row recorded after this
            # returns, and a failed upload removes what it wrote.
            try:
                if local.is_dir():
                    files = [p for p in sorted(local.rglob("*")) if p.is_file()]
                    self.fs.put([str(p) for p in files],
                                [f"{target}/{p.relative_to(local).as_posix()}" for p in files])
                else:
                    self.fs.put_file(str(local), target)
            except BaseException:
                if self.fs.exists(target):
                    self.fs.rm(target, recursive=True)
                raise

    @staticmethod
    def _replace(staging: str, target: str) -> None:
        if Path(target).is_dir():
            shutil.rmtree(target)
        Path(staging).replace(target)

    def local_path(self, key: str) -> Path:
        """Return a local path holding the object or folder at `key` (downloaded to the cache if remote)."""
        path = self._path(key)
        if not self.fs.exists(path):
            raise NotFound(f"Artifact {key!r} is missing from the store.")
        if self.is_local:
            return Path(path)
        local = self.cache_dir / "objects" / key
        if not local.exists():
            local.parent.mkdir(parents=True, exist_ok=True)
            staging = local.with_name(local.name + f".tmp-{uuid.uuid4().hex}")
            self.fs.get(path, str(staging), recursive=self.fs.isdir(path))
            staging.replace(local)
        return local

    def delete(self, key: str) -> None:
        """Remove `key` if present (used only to clean up after a failed operation)."""
        path = self._path(key)
        if self.fs.exists(path):
            self.fs.rm(path, recursive=True)
