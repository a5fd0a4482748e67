from __future__ import annotations

import base64
import copy
import datetime
import hmac
import logging
import pathlib
import pickle

import attrs
import pytest

from commsinbox.entrypoints import config
from commsinbox.domain.model.values import QuietHours
from commsinbox.entrypoints.config import (
    MASK,
    VARIABLES,
    ConfigError,
    Secret,
    Settings,
    decode_key,
)

pytestmark = pytest.mark.unit

KEY_A = base64.b64encode(bytes(range(32))).decode()  # standard alphabet, padded
KEY_B = base64.urlsafe_b64encode(bytes(range(200, 232))).decode().rstrip("=")  # url-safe, unpadded
KEY_C = base64.b64encode(bytes(range(100, 132))).decode()
SHORT_KEY = base64.b64encode(bytes(range(1, 32))).decode()  # 31 bytes
LONG_KEY = base64.b64encode(bytes(range(1, 34))).decode()  # 33 bytes

SECRETS = {
    "DATABASE_URL": "postgresql://owner:Owner-Pa55word@db.internal:5432/commsinbox",
    "DATABASE_APP_URL": "postgresql+psycopg://app:App-Pa55word@/commsinbox?host=/run/postgresql",
    "TWILIO_AUTH_TOKEN": "0123456789abcdef0123456789ABCDEF",
    "META_APP_SECRET": "fedcba9876543210fedcba9876543210",
    "META_VERIFY_TOKEN": "verify-me-please",
    "META_WEBHOOK_SECRET": "webhook-secret-value-1234",
    "META_APP_ACCESS_TOKEN": "123456|app-access-token-value",
    "CREDENTIALS_ENCRYPTION_KEYS": f"k2:{KEY_A},k1:{KEY_B}",
    "BAILEYS_ENCRYPTION_KEY": KEY_C,
    "S3_SECRET_ACCESS_KEY": "s3-secret-access-key-value",
    "SUPABASE_JWT_SECRET": "super-secret-jwt-token-with-at-least-32-characters",
}

FULL_ENV = {
    **SECRETS,
    "COMMSINBOX_ENV": "production",
    "COMMSINBOX_DATA_DIR": "/srv/commsinbox",
    "PUBLIC_BASE_URL": "https://inbox.example.com/",
    "LOG_LEVEL": "debug",
    "TWILIO_ACCOUNT_SID": "AC" + "a1" * 16,
    "TWILIO_SIGNING_KEY": "SK" + "B2" * 16,
    "TWILIO_API_BASE_URL": "http://127.0.0.1:9001",
    "META_APP_ID": "1234567890",
    "META_GRAPH_BASE_URL": "http://127.0.0.1:9002/",
    "META_GRAPH_VERSION": "v24.1",
    "QUIET_HOURS_DEFAULT": "09:30-17:45",
    "STORAGE_BACKEND": "s3",
    "S3_ENDPOINT_URL": "http://minio:9000",
    "S3_BUCKET": "commsinbox-vault.eu",
    "S3_REGION": "eu-west-3",
    "S3_ACCESS_KEY_ID": "AKIAEXAMPLE",
    "SUPABASE_JWT_AUDIENCE": "authenticated-users",
    "SUPABASE_JWT_ISSUER": "https://project.supabase.co/auth/v1",
    "LOGIN_RATE_LIMIT": "5/60",
}


def error_for(env: dict[str, str]) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        Settings.from_env(env)
    return caught.value


# --------------------------------------------------------------------------- defaults


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    monkeypatch.chdir(tmp_path)
    settings = Settings.from_env({})

    assert settings.env == "development"
    assert not settings.is_production
    assert settings.database_url is None
    assert settings.database_app_url is None
    assert settings.data_dir == tmp_path / "var"
    assert settings.data_dir.is_absolute()
    assert settings.public_base_url == "http://127.0.0.1:8080"
    assert settings.log_level == "INFO"
    assert settings.twilio_account_sid is None
    assert settings.twilio_api_base_url == "https://api.twilio.com"
    assert settings.meta_graph_base_url == "https://graph.facebook.com"
    assert settings.meta_graph_version == "v23.0"
    assert settings.credentials_keys == ()
    assert settings.baileys_encryption_key is None
    assert str(settings.quiet_hours_default) == "21:00-08:00"
    assert settings.storage_backend == "local"
    assert settings.s3_bucket == "vault"
    assert settings.s3_region == "us-east-1"
    assert settings.supabase_jwt_secret is None
    assert not settings.supabase_jwt_enabled
    assert settings.supabase_jwt_audience == "authenticated"
    assert settings.login_rate_limit == (10, 300)
    assert settings.warnings == ()


def test_empty_strings_count_as_unset() -> None:
    settings = Settings.from_env({doc.name: "" for doc in VARIABLES})
    assert settings == Settings.from_env({})


def test_reads_os_environ_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for doc in VARIABLES:
        monkeypatch.delenv(doc.name, raising=False)
    monkeypatch.delenv(config.LEGACY_BAILEYS, raising=False)
    monkeypatch.setenv("LOG_LEVEL", "WARNING")
    assert Settings.from_env().log_level == "WARNING"


def test_full_valid_environment() -> None:
    settings = Settings.from_env(FULL_ENV)

    assert settings.is_production
    assert settings.database_url == Secret(SECRETS["DATABASE_URL"])
    assert settings.database_app_url is not None
    assert settings.database_app_url.reveal() == SECRETS["DATABASE_APP_URL"]
    assert settings.data_dir == pathlib.Path("/srv/commsinbox")
    assert settings.public_base_url == "https://inbox.example.com"
    assert settings.log_level == "DEBUG"
    assert settings.twilio_account_sid == FULL_ENV["TWILIO_ACCOUNT_SID"]
    assert settings.twilio_signing_key == FULL_ENV["TWILIO_SIGNING_KEY"]
    assert settings.meta_graph_base_url == "http://127.0.0.1:9002"
    assert settings.meta_graph_version == "v24.1"
    assert settings.quiet_hours_default == QuietHours(
        datetime.time(9, 30), datetime.time(17, 45)
    )
    assert settings.storage_backend == "s3"
    assert settings.s3_endpoint_url == "http://minio:9000"
    assert settings.s3_bucket == "commsinbox-vault.eu"
    assert settings.supabase_jwt_enabled
    assert settings.supabase_jwt_issuer == "https://project.supabase.co/auth/v1"
    assert settings.login_rate_limit == (5, 60)
    assert settings.warnings == ()


# --------------------------------------------------------------------------- bad values

BAD_VALUES = [
    ("COMMSINBOX_ENV", "staging"),
    ("COMMSINBOX_ENV", "Production"),
    ("DATABASE_URL", "mysql://root:hunter2pw@db/app"),
    ("DATABASE_URL", "postgresql:///app_without_host"),
    ("DATABASE_URL", "postgresql://db.internal:notaport/app"),
    ("DATABASE_APP_URL", "http://app:pw-value@db/app"),
    ("COMMSINBOX_DATA_DIR", "var\x00evil"),
    ("PUBLIC_BASE_URL", "ftp://files.example.org"),
    ("PUBLIC_BASE_URL", "https://inbox.example.org/?q=leak"),
    ("PUBLIC_BASE_URL", "https://inbox.example.org/#fragment"),
    ("PUBLIC_BASE_URL", "https://user:pw-leak@inbox.example.org"),
    ("PUBLIC_BASE_URL", "inbox.example.org"),
    ("PUBLIC_BASE_URL", "https:///nohost/path"),
    ("LOG_LEVEL", "VERBOSE"),
    ("TWILIO_ACCOUNT_SID", "AC" + "g" * 32),
    ("TWILIO_ACCOUNT_SID", "SK" + "a" * 32),
    ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcde"),
    ("TWILIO_AUTH_TOKEN", "0123456789abcdef0123456789abcdeZ"),
    ("TWILIO_SIGNING_KEY", "AC" + "0" * 32),
    ("TWILIO_API_BASE_URL", "api.twilio.example"),
    ("META_APP_ID", "12ab34"),
    ("META_APP_SECRET", "z" * 32),
    ("META_VERIFY_TOKEN", "short7!"),
    ("META_VERIFY_TOKEN", "has space inside"),
    ("META_WEBHOOK_SECRET", "only15charsqqqq"),
    ("META_APP_ACCESS_TOKEN", "tok en-with-space"),
    ("META_GRAPH_BASE_URL", "graph.facebook.example"),
    ("META_GRAPH_VERSION", "24.0"),
    ("META_GRAPH_VERSION", "v24"),
    ("BAILEYS_ENCRYPTION_KEY", base64.b64encode(b"\x01" * 16).decode()),
    ("BAILEYS_ENCRYPTION_KEY", "not base64 at all!"),
    ("QUIET_HOURS_DEFAULT", "24:00-08:00"),
    ("QUIET_HOURS_DEFAULT", "21:60-08:00"),
    ("QUIET_HOURS_DEFAULT", "21:15-21:15"),
    ("QUIET_HOURS_DEFAULT", "9:00-17:00"),
    ("STORAGE_BACKEND", "gcs"),
    ("S3_ENDPOINT_URL", "minio:9000"),
    ("S3_BUCKET", "Vault-Upper"),
    ("S3_BUCKET", "ab"),
    ("S3_BUCKET", "192.168.10.20"),
    ("S3_BUCKET", "my..bucket"),
    ("S3_BUCKET", "-leading"),
    ("S3_REGION", "us east 1"),
    ("S3_ACCESS_KEY_ID", "key with space"),
    ("S3_SECRET_ACCESS_KEY", "secret with space"),
    ("SUPABASE_JWT_SECRET", "q" * 31),
    ("SUPABASE_JWT_AUDIENCE", "two words"),
    ("SUPABASE_JWT_ISSUER", "not-a-url"),
    ("LOGIN_RATE_LIMIT", "0/60"),
    ("LOGIN_RATE_LIMIT", "10/0"),
    ("LOGIN_RATE_LIMIT", "12"),
    ("LOGIN_RATE_LIMIT", "ten/300"),
    ("LOGIN_RATE_LIMIT", "-1/300"),
]


@pytest.mark.parametrize(("name", "bad"), BAD_VALUES)
def test_bad_value_names_variable_and_format_but_not_value(name: str, bad: str) -> None:
    doc = next(doc for doc in VARIABLES if doc.name == name)
    assert bad not in doc.expected  # otherwise the last assertion would prove nothing

    error = error_for({name: bad})

    assert error.variable == name
    assert error.expected == doc.expected
    message = str(error)
    assert message.startswith(f"{name} is invalid: expected ")
    assert doc.expected in message
    assert bad not in message
    assert bad not in repr(error)
    # nothing chained that could carry the value into a traceback
    assert error.__cause__ is None
    assert error.__context__ is None


def test_every_variable_has_a_bad_value_case() -> None:
    covered = {name for name, _bad in BAD_VALUES} | {"CREDENTIALS_ENCRYPTION_KEYS"}
    assert {doc.name for doc in VARIABLES} <= covered


def test_first_bad_variable_in_table_order_is_reported() -> None:
    error = error_for({"LOGIN_RATE_LIMIT": "nope", "LOG_LEVEL": "LOUD"})
    assert error.variable == "LOG_LEVEL"


# --------------------------------------------------------------------------- Secret


def test_secret_hides_itself() -> None:
    secret = Secret("hunter2-value")
    assert repr(secret) == "Secret('**********')"
    assert str(secret) == MASK
    assert f"{secret}" == MASK
    assert f"{secret:>12}" == "  " + MASK
    assert "%s %r" % (secret, secret) == f"{MASK} Secret('{MASK}')"
    assert "hunter2" not in repr([secret, {"k": secret}])
    assert secret.reveal() == "hunter2-value"


def test_secret_equality_by_value_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert Secret("same-value") == Secret("same-value")
    assert Secret("same-value") != Secret("other-value")
    assert calls
    assert Secret("same-value") != "same-value"


def test_secret_cannot_be_pickled_or_mutated() -> None:
    secret = Secret("pickle-me-not")
    with pytest.raises(TypeError):
        pickle.dumps(secret)
    with pytest.raises(TypeError):
        pickle.dumps(Settings.from_env({"META_VERIFY_TOKEN": "pickle-me-not"}))
    with pytest.raises(AttributeError):
        secret._value = "changed"  # type: ignore[misc]
    assert copy.deepcopy(secret) is secret
    with pytest.raises(TypeError):
        Secret(b"bytes")  # type: ignore[arg-type]


def test_settings_repr_str_and_describe_hide_every_secret() -> None:
    settings = Settings.from_env(FULL_ENV)
    described = settings.describe()
    rendered = [repr(settings), str(settings), repr(described), repr(attrs.asdict(settings))]

    for value in SECRETS.values():
        for text in rendered:
            assert value not in text
    for key in (KEY_A, KEY_B, KEY_C, "Owner-Pa55word", "App-Pa55word"):
        for text in rendered:
            assert key not in text
    assert "Secret('**********')" in repr(settings)


def test_describe_lists_every_variable_and_masks_secrets() -> None:
    full = Settings.from_env(FULL_ENV).describe()
    empty = Settings.from_env({}).describe()

    assert list(full) == [doc.name for doc in VARIABLES]
    for doc in VARIABLES:
        if doc.secret:
            assert full[doc.name] == MASK, doc.name
            assert empty[doc.name] is None, doc.name
        else:
            assert full[doc.name] not in (None, MASK), doc.name
    assert full["LOGIN_RATE_LIMIT"] == "5/60"
    assert full["QUIET_HOURS_DEFAULT"] == "09:30-17:45"
    assert full["PUBLIC_BASE_URL"] == "https://inbox.example.com"
    assert empty["LOGIN_RATE_LIMIT"] == "10/300"


def test_secret_values_include_database_passwords_and_keys() -> None:
    values = Settings.from_env(FULL_ENV).secret_values()
    assert "Owner-Pa55word" in values
    assert "App-Pa55word" in values
    assert KEY_A in values and KEY_B in values
    for name, value in SECRETS.items():
        if name != "CREDENTIALS_ENCRYPTION_KEYS":
            assert value in values, name


def test_variable_table_is_consistent() -> None:
    names = [doc.name for doc in VARIABLES]
    assert len(names) == len(set(names))
    assert all(doc.expected for doc in VARIABLES)
    for doc in VARIABLES:
        if doc.default is not None:
            # each default must itself be valid
            Settings.from_env({doc.name: doc.default})


# --------------------------------------------------------------------------- ConfigError


def test_config_error_messages() -> None:
    invalid = ConfigError("FOO", "a foo")
    assert str(invalid) == "FOO is invalid: expected a foo"
    assert (invalid.variable, invalid.expected) == ("FOO", "a foo")
    required = ConfigError("FOO", "a foo", required=True, when="BAR is baz")
    assert str(required) == "FOO is required when BAR is baz: expected a foo"


# --------------------------------------------------------------------------- keyring


def test_keyring_keeps_order_newest_first() -> None:
    settings = Settings.from_env({"CREDENTIALS_ENCRYPTION_KEYS": f" new:{KEY_B} , old_1:{KEY_A}"})
    assert [key_id for key_id, _key in settings.credentials_keys] == ["new", "old_1"]
    assert settings.credentials_keys[0][1] == Secret(KEY_B)
    assert decode_key(settings.credentials_keys[0][1]) == bytes(range(200, 232))
    assert decode_key(settings.credentials_keys[1][1]) == bytes(range(32))


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (f"k1:{KEY_A},k1:{KEY_B}", "entry 2 repeats an earlier id"),
        (f"k1:{KEY_A},k2:{SHORT_KEY}", "entry 2: the key does not decode to 32 bytes"),
        (f"k1:{LONG_KEY}", "entry 1: the key does not decode to 32 bytes"),
        (f"k1:{KEY_A[:-6]}!!!!!=", "entry 1: the key is not base64"),
        (f"bad id:{KEY_A}", "entry 1 has an invalid id"),
        (f"{'x' * 33}:{KEY_A}", "entry 1 has an invalid id"),
        (KEY_A, "entry 1 is not id:key"),
        (f"k1:{KEY_A},", "entry 2 is not id:key"),
    ],
)
def test_keyring_rejections(value: str, reason: str) -> None:
    error = error_for({"CREDENTIALS_ENCRYPTION_KEYS": value})
    assert error.variable == "CREDENTIALS_ENCRYPTION_KEYS"
    assert error.reason == reason
    assert str(error).endswith(f"({reason})")
    for part in value.replace(",", ":").split(":"):
        if len(part) > 4:
            assert part not in str(error)


# --------------------------------------------------------------------------- Baileys


def test_legacy_baileys_spelling_is_used_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="commsinbox.config"):
        settings = Settings.from_env({"BAILLEYS_ENCRYPTION_KEY": KEY_C})

    assert settings.baileys_encryption_key == Secret(KEY_C)
    assert len(settings.warnings) == 1
    assert "BAILLEYS_ENCRYPTION_KEY" in settings.warnings[0]
    assert "BAILEYS_ENCRYPTION_KEY" in settings.warnings[0]
    logged = [r for r in caplog.records if r.name == "commsinbox.config"]
    assert [r.getMessage() for r in logged] == list(settings.warnings)
    assert KEY_C not in caplog.text


def test_correct_baileys_spelling_wins_over_legacy(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="commsinbox.config"):
        settings = Settings.from_env(
            {"BAILEYS_ENCRYPTION_KEY": KEY_C, "BAILLEYS_ENCRYPTION_KEY": "ignored, even if invalid"}
        )
    assert settings.baileys_encryption_key == Secret(KEY_C)
    assert len(settings.warnings) == 1
    assert "ignored" in settings.warnings[0]
    assert "ignored" in caplog.text


def test_invalid_legacy_baileys_value_names_the_legacy_variable() -> None:
    error = error_for({"BAILLEYS_ENCRYPTION_KEY": "too-short-key"})
    assert error.variable == "BAILLEYS_ENCRYPTION_KEY"
    assert "too-short-key" not in str(error)


def test_no_baileys_warning_when_only_correct_spelling() -> None:
    assert Settings.from_env({"BAILEYS_ENCRYPTION_KEY": KEY_C}).warnings == ()


# --------------------------------------------------------------------------- cross-field rules

S3_COMPLETE = {
    "STORAGE_BACKEND": "s3",
    "S3_ENDPOINT_URL": "http://minio:9000",
    "S3_ACCESS_KEY_ID": "minio-access",
    "S3_SECRET_ACCESS_KEY": "minio-secret",
}


@pytest.mark.parametrize("missing", ["S3_ENDPOINT_URL", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"])
def test_s3_backend_requires_endpoint_and_credentials(missing: str) -> None:
    env = {**S3_COMPLETE, missing: ""}
    error = error_for(env)
    assert error.variable == missing
    assert str(error).startswith(f"{missing} is required when STORAGE_BACKEND is s3: expected ")
    assert "minio-secret" not in str(error)


def test_s3_backend_complete() -> None:
    settings = Settings.from_env(S3_COMPLETE)
    assert settings.storage_backend == "s3"
    assert settings.s3_secret_access_key == Secret("minio-secret")


def test_local_backend_needs_no_s3_settings() -> None:
    assert Settings.from_env({"STORAGE_BACKEND": "local"}).s3_endpoint_url is None


def test_production_requires_keyring() -> None:
    error = error_for({"COMMSINBOX_ENV": "production"})
    assert error.variable == "CREDENTIALS_ENCRYPTION_KEYS"
    assert "is required when COMMSINBOX_ENV is production" in str(error)

    settings = Settings.from_env(
        {"COMMSINBOX_ENV": "production", "CREDENTIALS_ENCRYPTION_KEYS": f"k1:{KEY_A}"}
    )
    assert settings.is_production
    assert Settings.from_env({"COMMSINBOX_ENV": "development"}).credentials_keys == ()


# --------------------------------------------------------------------------- quiet hours


def test_quiet_hours_crossing_midnight() -> None:
    default = Settings.from_env({}).quiet_hours_default
    assert default.start == datetime.time(21, 0)
    assert default.end == datetime.time(8, 0)
    assert default.crosses_midnight

    daytime = Settings.from_env({"QUIET_HOURS_DEFAULT": "12:00-13:30"}).quiet_hours_default
    assert not daytime.crosses_midnight
    assert str(daytime) == "12:00-13:30"
    assert QuietHours.parse("23:59-00:00").crosses_midnight


def test_quiet_hours_value_rejects_empty_window() -> None:
    with pytest.raises(ValueError):
        QuietHours(datetime.time(8, 0), datetime.time(8, 0))
