"""Typed settings: defaults, environment variables, the TOML file and the short database URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlpilot.settings import Settings, settings_table


def test_defaults_use_local_embedded_stack(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings()
    assert settings.data_dir == Path("mlpilot-data")
    assert settings.database_url_resolved.startswith("sqlite:///")
    assert settings.database_url_resolved.endswith("mlpilot-data/mlpilot.db")
    assert settings.jobs.executor == "local"


def test_environment_overrides_nested_and_short_names(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLPILOT_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("MLPILOT_JOBS__WORKERS", "7")
    monkeypatch.setenv("MLPILOT_UI__DEFAULT_LOCALE", "ko")
    settings = Settings()
    assert settings.database_url_resolved == "postgresql+psycopg://u@h/db"
    assert settings.jobs.workers == 7
    assert settings.ui.default_locale == "ko"


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = tmp_path / "conf.toml"
    config.write_text('data_dir = "/srv/mlpilot"\n[jobs]\nworkers = 3\n[serving]\nmax_rows_per_request = 50\n')
    monkeypatch.setenv("MLPILOT_CONFIG", str(config))
    monkeypatch.setenv("MLPILOT_JOBS__WORKERS", "5")
    settings = Settings()
    assert settings.data_dir == Path("/srv/mlpilot")
    assert settings.serving.max_rows_per_request == 50
    assert settings.jobs.workers == 5


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLPILOT_JOBS__WORKERS", "zero")
    with pytest.raises(ValueError, match="workers"):
        Settings()


def test_every_setting_is_documented() -> None:
    rows = settings_table()
    assert {"MLPILOT_DATA_DIR", "MLPILOT_DATABASE_URL", "MLPILOT_BOOTSTRAP_TOKEN", "MLPILOT_JOBS__WORKERS"} <= {
        r[0] for r in rows}
    assert all(description for _, _, description in rows)
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    missing = [name for name, _, _ in rows if name not in readme]
    assert not missing, f"README settings table lacks {missing}"
