"""Where users may point the server: local roots, database URLs and outbound hosts an admin allows.

Every path or URL that comes from a user — a file connection, a scoring source or output, a model folder, a
SQL URL, a webhook, an external AI backend — is checked here, at creation and again when it is opened, after
fsspec chaining, symlinks and `..` are resolved. The server's own files (metadata database, store, cache,
secret key, initial password, config) are never reachable, whatever the admin allows.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from mlpilot.core.errors import InvalidInput

# fsspec protocols a source or sink may name: the local disk and the object stores. Chains (`a::b`) and
# everything else (simplecache, zip, tar, memory, ssh, ftp, github, …) are refused: they reopen other paths.
REMOTE_PROTOCOLS = frozenset({"s3", "s3a", "gs", "gcs", "az", "abfs", "abfss", "adl", "http", "https"})
LOCAL_PROTOCOLS = frozenset({"file", "local"})
GLOB_CHARS = "*?["
# URL query options a SQL connection may carry, per driver family; anything else could read server files
# (sslkey, sslrootcert, read_default_file, local_infile) or change the server's behaviour (options, init_command).
SQL_QUERY_OPTIONS = {
    "postgresql": frozenset({"sslmode", "connect_timeout", "application_name", "target_session_attrs"}),
    "mysql": frozenset({"charset", "connect_timeout", "ssl_mode", "ssl_disabled"}),
    "mariadb": frozenset({"charset", "connect_timeout", "ssl_mode", "ssl_disabled"}),
    "sqlite": frozenset(),
}
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


def _inside(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


@dataclass(frozen=True)
class AllowList:
    """The admin's allow-list, resolved once from the settings (see `core.runtime`)."""

    roots: tuple[Path, ...] = ()
    reserved: tuple[Path, ...] = ()
    # The data directory is the server's own except its imports folder, where users may drop files.
    home: Path | None = None
    imports: Path | None = None
    sqlite_files: tuple[Path, ...] = ()
    hosts: frozenset[str] = frozenset()
    networks: tuple[IpNetwork, ...] = ()
    metadata_database: tuple[str, int | None, str] | None = None
    resolver: object = field(default=socket.getaddrinfo, repr=False, compare=False)

    # Local paths -----------------------------------------------------------------------------------------

    def local_path(self, raw: str | os.PathLike[str], *, field_name: str) -> Path:
        """Return the resolved local path, or refuse one outside the allowed roots or inside the server's own."""
        text = str(raw)
        if "\x00" in text:
            raise InvalidInput(f"{field_name}: a path cannot contain a NUL character.")
        if text.startswith("file://"):
            text = text[len("file://"):]
        elif text.startswith("local://"):
            text = text[len("local://"):]
        if not os.path.isabs(text):
            raise InvalidInput(f"{field_name}: {raw!r} must be an absolute path inside one of the allowed folders "
                               f"({self.describe_roots()}).")
        # The part before the first glob character is what the pattern can reach.
        cut = min((text.index(ch) for ch in GLOB_CHARS if ch in text), default=len(text))
        base = text[:cut]
        resolved = Path(os.path.realpath(base if cut == len(text) else os.path.dirname(base) or "/"))
        if self.is_reserved(resolved):
            raise InvalidInput(f"{field_name}: {raw!r} reaches mlpilot's own files (database, keys, stored "
                               "data); sources and outputs cannot use them.")
        if not any(_inside(resolved, root) for root in self.roots):
            raise InvalidInput(f"{field_name}: {raw!r} is outside the folders an admin allows for sources and "
                               f"outputs ({self.describe_roots()}); ask an admin to add its folder to "
                               "MLPILOT_SOURCES__ROOTS.")
        return resolved if cut == len(text) else Path(text)

    def is_reserved(self, resolved: Path) -> bool:
        """Whether a resolved local path is one of the server's own files or folders."""
        if any(_inside(resolved, reserved) for reserved in self.reserved):
            return True
        if self.home is not None and _inside(resolved, self.home):
            return self.imports is None or not _inside(resolved, self.imports)
        return False

    def describe_roots(self) -> str:
        """Return the allowed roots for messages."""
        return ", ".join(str(root) for root in self.roots) or "none configured"

    def location(self, raw: str, *, field_name: str) -> str:
        """Check a file source or sink (plain path or fsspec URL); return it unchanged when allowed."""
        text = (raw or "").strip()
        if "::" in text:
            raise InvalidInput(f"{field_name}: chained fsspec URLs ({text.split('::')[0]}::…) are not allowed; "
                               "give the file's own path or URL.")
        protocol = text.split("://", 1)[0].lower() if "://" in text else "file"
        if protocol in LOCAL_PROTOCOLS:
            self.local_path(text, field_name=field_name)
            return text
        if protocol not in REMOTE_PROTOCOLS:
            raise InvalidInput(f"{field_name}: the protocol {protocol!r} is not allowed; use a local path or one "
                               f"of {', '.join(sorted(REMOTE_PROTOCOLS))}.")
        if protocol in ("http", "https"):
            self.outbound_url(text, field_name=field_name)
        return text

    # Databases ---------------------------------------------------------------------------------------------

    def database_url(self, url: object, *, field_name: str) -> None:
        """Refuse SQL URLs to SQLite files not allowed, to the metadata database, or with unsafe options."""
        from sqlalchemy.engine import make_url

        parsed = make_url(url)  # type: ignore[arg-type]
        family = parsed.get_backend_name()
        if family not in SQL_QUERY_OPTIONS:
            raise InvalidInput(f"{field_name}: the database kind {family!r} is not supported; use postgresql, "
                               "mysql/mariadb or an admin-allowed sqlite file.")
        unknown = sorted(set(parsed.query) - SQL_QUERY_OPTIONS[family])
        if unknown:
            raise InvalidInput(f"{field_name}: the URL options {', '.join(unknown)} are not allowed for {family} "
                               f"(allowed: {', '.join(sorted(SQL_QUERY_OPTIONS[family])) or 'none'}).")
        if family == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:" or database.startswith("file:"):
                raise InvalidInput(f"{field_name}: a sqlite URL must name a database file an admin allows.")
            resolved = Path(os.path.realpath(database))
            if self.is_reserved(resolved):
                raise InvalidInput(f"{field_name}: {database!r} is mlpilot's own data; it cannot be a source.")
            if resolved not in self.sqlite_files and not any(_inside(resolved, root) for root in self.roots):
                raise InvalidInput(f"{field_name}: SQLite files are refused unless an admin allows them "
                                   "(MLPILOT_SOURCES__SQLITE_FILES or a folder in MLPILOT_SOURCES__ROOTS); "
                                   f"{database!r} is not allowed.")
            return
        host = parsed.host or "localhost"
        if self.metadata_database is not None:
            meta_host, meta_port, meta_db = self.metadata_database
            same_host = self._addresses(host) & self._addresses(meta_host) if meta_host else set()
            if same_host and (parsed.port or None) in (meta_port, None) and parsed.database == meta_db:
                raise InvalidInput(f"{field_name}: that is mlpilot's own metadata database; it cannot be a source.")
        # Company databases live on private networks, so private hosts stay allowed for SQL; what no database
        # lives on is the link-local range (cloud instance metadata).
        for address in self._addresses(host, parsed.port):
            if address.is_link_local and not any(address in network for network in self.networks):
                raise InvalidInput(f"{field_name}: {host!r} resolves to the link-local address {address}; "
                                   "no database is reached there.")

    # Outbound network ---------------------------------------------------------------------------------------

    def outbound_url(self, url: str, *, field_name: str) -> str:
        """Refuse http(s) URLs whose host resolves to a private, loopback, link-local or reserved address."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InvalidInput(f"{field_name}: {url!r} must be an http(s) URL with a host.")
        self.host(parts.hostname, field_name=field_name, port=parts.port)
        return url

    def host(self, host: str, *, field_name: str, port: int | None = None) -> None:
        """Refuse a host that resolves to a non-public address unless the admin allows it."""
        name = host.strip("[]").lower()
        if name in self.hosts:
            return
        # A name that does not resolve reaches nothing; the call itself then fails with its own error.
        addresses = self._addresses(name, port)
        for address in addresses:
            if any(address in network for network in self.networks):
                continue
            if not address.is_global or address.is_multicast:
                raise InvalidInput(
                    f"{field_name}: {host!r} resolves to {address}, a private, loopback, link-local or reserved "
                    "address; an admin can allow it with MLPILOT_SOURCES__HOSTS or MLPILOT_SOURCES__NETWORKS.")

    def _addresses(self, host: str, port: int | None = None) -> set[ipaddress.IPv4Address | ipaddress.IPv6Address]:
        try:
            literals = [ipaddress.ip_address(host)]
        except ValueError:
            try:
                infos = self.resolver(host, port or 0, proto=socket.IPPROTO_TCP)  # type: ignore[operator]
            except (OSError, UnicodeError):
                return set()
            literals = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
        # An IPv4 address written as IPv6 (::ffff:127.0.0.1) reaches the IPv4 host: judge that one.
        return {address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped
                else address for address in literals}


def build_allowlist(*, roots: Iterable[Path], reserved: Iterable[Path], sqlite_files: Iterable[Path] = (),
                    hosts: Iterable[str] = (), networks: Iterable[str] = (), home: Path | None = None,
                    imports: Path | None = None,
                    metadata_database: tuple[str, int | None, str] | None = None) -> AllowList:
    """Return an allow-list with every path resolved (so symlinked roots compare equal)."""
    return AllowList(
        roots=tuple(Path(os.path.realpath(root)) for root in roots),
        reserved=tuple(Path(os.path.realpath(path)) for path in reserved),
        home=Path(os.path.realpath(home)) if home is not None else None,
        imports=Path(os.path.realpath(imports)) if imports is not None else None,
        sqlite_files=tuple(Path(os.path.realpath(path)) for path in sqlite_files),
        hosts=frozenset(host.lower() for host in hosts),
        networks=tuple(ipaddress.ip_network(net, strict=False) for net in networks),
        metadata_database=metadata_database,
    )
