"""All of mlpilot's configuration as one typed tree, read from `MLPILOT_*` variables and an optional TOML file.

Environment variables win over the TOML file, which wins over the defaults. Nested groups use a double
underscore (`MLPILOT_JOBS__WORKERS=4`); the most used settings also have a short top-level name
(`MLPILOT_DATABASE_URL`). This is the only module that reads the process environment.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mlpilot.core.limits import SizeLimits

CONFIG_FILE_ENV = "MLPILOT_CONFIG"
DEFAULT_CONFIG_FILE = "mlpilot.toml"


class DbSettings(BaseModel):
    url: str | None = Field(
        None,
        description="SQLAlchemy URL of the metadata database; empty means SQLite at DATA_DIR/mlpilot.db. "
        "Also settable as MLPILOT_DATABASE_URL.",
    )
    echo: bool = Field(False, description="Log every SQL statement (debugging only).")
    pool_size: int = Field(5, ge=1, description="Connection pool size for server databases.")
    sqlite_busy_timeout_ms: int = Field(15000, ge=0, description="How long SQLite waits on a locked database.")


class StorageSettings(BaseModel):
    url: str | None = Field(
        None,
        description="fsspec URL of the artifact and data store; empty means DATA_DIR/store on the local disk.",
    )
    cache_dir: Path | None = Field(
        None, description="Local cache for artifacts fetched from a remote store; empty means DATA_DIR/cache."
    )
    # S3-compatible stores (AWS, MinIO, Ceph, ...): empty fields fall back to the AWS SDK's usual environment
    # variables and files, so an instance role keeps working without keys in the configuration.
    endpoint_url: str | None = Field(
        None, max_length=500, description="S3 endpoint of a non-AWS server, e.g. http://minio.internal:9000.")
    access_key_id: str | None = Field(None, max_length=200, description="S3 access key id.")
    secret_access_key: SecretStr | None = Field(None, description="S3 secret access key.")
    region: str | None = Field(None, max_length=50, description="S3 region (us-east-1 when the server has none).")


class JobsSettings(BaseModel):
    executor: Literal["local", "ray", "queue"] = Field(
        "local", description="Where long work runs: local threads, Ray, or 'queue': `mlpilot worker` processes "
        "sharing the database claim the queued jobs (the server runs none itself).")
    poll_seconds: float = Field(0.5, ge=0.05, le=60, description="How often a `mlpilot worker` looks for queued jobs.")
    workers: int = Field(2, ge=1, description="Parallel jobs in the local executor.")
    ray_address: str | None = Field(None, description="Ray cluster the ray executor runs jobs on: host:port of its "
                                    "head node, or 'auto' for the cluster started on this machine.")
    lease_seconds: float = Field(30.0, ge=1, le=3600, description="How long a job stays owned by its process "
                                 "without a heartbeat; after that another process fails or resumes it.")
    heartbeat_seconds: float = Field(5.0, gt=0, le=600, description="How often a process renews the leases of "
                                     "its jobs and reclaims those of stopped processes (well below the lease).")


class ServingSettings(BaseModel):
    max_rows_per_request: int = Field(10000, ge=1, description="Largest batch one inference request may carry.")
    max_body_bytes: int = Field(32 * 1024 * 1024, ge=1024, description="Largest inference request body.")
    max_url_bytes: int = Field(8192, ge=256, le=1 << 20, description="Longest request line URL the data plane's "
                               "server reads (414 beyond).")
    max_header_bytes: int = Field(32768, ge=1024, le=1 << 24, description="Largest total size of a request's "
                                  "headers (431 beyond).")
    max_headers: int = Field(100, ge=8, le=10_000, description="Most header lines one request may carry (431 "
                             "beyond).")
    header_timeout_s: float = Field(10.0, gt=0, le=3600, description="Time a client has to send a request's "
                                    "headers once it starts (slow senders are cut off: 408).")
    body_timeout_s: float = Field(60.0, gt=0, le=3600, description="Time a client has to send a request body "
                                  "once the headers arrived (408 beyond).")
    keepalive_timeout_s: float = Field(30.0, gt=0, le=3600, description="How long an idle keep-alive connection "
                                       "stays open.")
    telemetry_buffer: int = Field(100_000, ge=10, description="Inference records held before new ones are dropped.")
    telemetry_flush_seconds: float = Field(1.0, gt=0, description="How often buffered inference records are stored.")
    compile_trees: bool = Field(True, description="Compile LightGBM ensembles to native code when served (checked "
                                                  "equal to LightGBM's answers; needs a C compiler, else skipped).")
    compile_cache_dir: Path | None = Field(
        None, description="Where compiled LightGBM ensembles are cached; empty means ~/.cache/mlpilot/trees.")
    prediction_log_capacity: int = Field(100_000, ge=1, description="Request ids remembered per server so ground "
                                                                     "truth sent later can be joined to the answer.")
    drift_window_seconds: int = Field(3600, ge=1, description="Length of the live-drift windows over served traffic.")
    drift_sample_requests: int = Field(500, ge=1, description="Requests sampled per service and window for live "
                                                              "drift (a uniform reservoir sample).")
    drift_rows_per_request: int = Field(10, ge=1, description="Rows kept from each sampled request.")
    drift_windows: int = Field(24, ge=1, description="Live-drift windows kept per service (older ones fall out).")


class FeederSettings(BaseModel):
    scheduler_enabled: bool = Field(True, description="Run scheduled training-data pipelines in the server.")
    scheduler_interval_s: float = Field(5.0, gt=0, description="How often the scheduler looks for due pipelines.")
    retry_attempts: int = Field(4, ge=1, le=20, description="Attempts a pipeline run makes on a transient failure.")
    retry_base_delay_s: float = Field(
        2.0, ge=0, description="First retry delay of a pipeline run; doubled on every further attempt."
    )


class RisksSettings(BaseModel):
    scanner_enabled: bool = Field(True, description="Scan every project's evidence for risks in the server.")
    scan_interval_s: float = Field(3600.0, ge=10, description="How often every project's evidence is scanned.")


class NotificationSettings(BaseModel):
    enabled: bool = Field(True, description="Deliver webhooks and e-mails of published events in the server.")
    interval_s: float = Field(2.0, gt=0, description="How often the notifier looks for due deliveries.")
    alert_interval_s: float = Field(30.0, gt=0, description="How often alert rules are evaluated.")
    max_attempts: int = Field(8, ge=1, le=50, description="Attempts a webhook or e-mail delivery makes before failing.")
    retry_base_delay_s: float = Field(
        5.0, ge=0, description="First retry delay of a failed delivery; doubled on every further attempt."
    )
    timeout_s: float = Field(10.0, gt=0, description="Timeout of one webhook call or SMTP session.")
    smtp_host: str | None = Field(None, description="SMTP server that sends alert e-mails (none = e-mail off).")
    smtp_port: int = Field(25, ge=1, le=65535, description="Port of the SMTP server.")
    smtp_from: str = Field("mlpilot@localhost", description="Sender address of alert e-mails.")
    smtp_tls: Literal["none", "starttls", "ssl"] = Field("none", description="How the SMTP connection is encrypted.")
    smtp_username: str | None = Field(None, description="SMTP login user (none = no login).")
    smtp_password: SecretStr | None = Field(None, description="SMTP login password.")


class SourcesSettings(BaseModel):
    roots: list[Path] = Field(
        default_factory=list,
        description="Local folders file connections, scoring sources/outputs and model folders may use, besides "
        "DATA_DIR/imports (JSON list). mlpilot's own database, store, cache and keys stay refused inside them.")
    sqlite_files: list[Path] = Field(
        default_factory=list, description="SQLite database files a SQL connection may open (JSON list); others are "
        "refused unless they lie in an allowed folder.")
    hosts: list[str] = Field(
        default_factory=list, description="Host names outbound calls and SQL connections may reach although they "
        "resolve to private, loopback or link-local addresses (JSON list).")
    networks: list[str] = Field(
        default_factory=list, description="Address ranges (CIDR) allowed the same way, e.g. [\"10.20.0.0/16\"].")


class LimitsSettings(BaseModel):
    request_bytes: int = Field(16 << 20, ge=1024, le=1 << 34, description="Largest API or form request body "
                               "(uploads excepted); larger ones answer 413 before they are read.")
    upload_bytes: int = Field(1 << 30, ge=1024, le=1 << 40, description="Largest file upload (datasets, models).")
    decompressed_bytes: int = Field(8 << 30, ge=1024, le=1 << 42, description="Largest size a compressed upload or "
                                    "source file may expand to.")
    ratio: int = Field(200, ge=10, le=100_000, description="Largest expansion ratio of compressed input; beyond it "
                       "the file is refused as a compression bomb.")

    def as_limits(self) -> SizeLimits:
        return SizeLimits(request_bytes=self.request_bytes, upload_bytes=self.upload_bytes,
                          decompressed_bytes=self.decompressed_bytes, ratio=self.ratio)


class UiSettings(BaseModel):
    default_locale: Literal["en", "ko"] = Field("en", description="UI language when the user has not chosen one.")
    session_days: int = Field(14, ge=1, le=365, description="How long a UI login lasts.")
    secure_cookies: bool | None = Field(
        None, description="Send the login cookie only over HTTPS; empty means on when PUBLIC_URL starts with https.")
    login_max_failures: int = Field(
        5, ge=1, le=1000, description="Failed sign-ins allowed per user and per client address within the window "
        "before further attempts are refused.")
    login_window_minutes: int = Field(
        15, ge=1, le=1440, description="Window over which failed sign-ins are counted; a refused user or address "
        "may try again once its oldest failure leaves the window.")


class Settings(BaseSettings):
    """The settings tree; see the README's settings table."""

    model_config = SettingsConfigDict(
        env_prefix="MLPILOT_", env_nested_delimiter="__", extra="ignore", validate_default=True
    )

    data_dir: Path = Field(Path("mlpilot-data"), description="Where the embedded database, store and cache live.")
    serve_token: SecretStr | None = Field(
        None, description="Bearer token the standalone `mlpilot serve` requires (none = open; it binds 127.0.0.1).")
    host: str = Field("127.0.0.1", description="Address `mlpilot up` listens on.")
    port: int = Field(8000, ge=0, le=65535, description="Port `mlpilot up` listens on.")
    public_url: str | None = Field(None, description="URL users reach the server at, for links and the CLI.")
    database_url: str | None = Field(None, description="Short form of db.url.")
    bootstrap_token: SecretStr | None = Field(
        None, description="This string is an API token of the admin while it is set (at least 32 characters, 8 "
        "different); changing or removing it revokes the old one at the next start."
    )
    admin_password: SecretStr | None = Field(
        None, description="Initial admin password; a random one is generated and printed when empty."
    )
    secret_key: SecretStr | None = Field(
        None, description="Key that encrypts connection secrets at rest (Fernet key or any passphrase); empty means "
        "a key generated once into DATA_DIR/secret.key (mode 0600).",
    )
    log_level: str = Field("info", description="Log level of the server.")
    # The CLI's connection to a server.
    url: str = Field("http://127.0.0.1:8000", description="Server the CLI's client commands talk to.")
    token: SecretStr | None = Field(None, description="API token the CLI's client commands send.")

    db: DbSettings = Field(default_factory=DbSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    serving: ServingSettings = Field(default_factory=ServingSettings)
    ui: UiSettings = Field(default_factory=UiSettings)
    feeder: FeederSettings = Field(default_factory=FeederSettings)
    risks: RisksSettings = Field(default_factory=RisksSettings)
    notifications: NotificationSettings = Field(default_factory=NotificationSettings)
    sources: SourcesSettings = Field(default_factory=SourcesSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)

    @property
    def database_url_resolved(self) -> str:
        url = self.database_url or self.db.url
        if url:
            return url
        return f"sqlite:///{(self.data_dir / 'mlpilot.db').resolve()}"

    @property
    def storage_url_resolved(self) -> str:
        return self.storage.url or str((self.data_dir / "store").resolve())

    @property
    def imports_dir(self) -> Path:
        return (self.data_dir / "imports").resolve()

    @property
    def config_file(self) -> Path:
        return Path(os.environ.get(CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE)).resolve()

    @property
    def cache_dir_resolved(self) -> Path:
        return (self.storage.cache_dir or self.data_dir / "cache").resolve()

    def with_overrides(self, **changes: Any) -> Settings:
        """Return a copy with top-level fields replaced (used by CLI flags)."""
        return self.model_copy(update={k: v for k, v in changes.items() if v is not None})


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the process-wide settings, read once."""
    return Settings()


def settings_table() -> list[tuple[str, str, str]]:
    """Return (environment variable, default, description) rows for documentation."""
    rows: list[tuple[str, str, str]] = []

    def walk(model: type[BaseModel], prefix: str) -> None:
        for name, field in model.model_fields.items():
            annotation = field.annotation
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                walk(annotation, f"{prefix}{name.upper()}__")
                continue
            default = field.get_default(call_default_factory=True)
            rows.append((f"{prefix}{name.upper()}", "" if default is None else str(default), field.description or ""))

    walk(Settings, "MLPILOT_")
    return rows
