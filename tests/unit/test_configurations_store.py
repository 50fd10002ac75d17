"""ConfigurationStore: per-user watch lists, at most five each, enforced atomically."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest

from sentiment.models import Configuration, ConfigurationIn, ConfigurationPatch
from sentiment.settings import Settings
from sentiment.store import (
    ConfigurationLimitError,
    ConfigurationNotFoundError,
    ConfigurationStore,
)
from tests.unit.conftest import Clock
from tests.utils.factories import serialize_moto_transactions

ALICE, BOB = "a" * 32, "b" * 32


@pytest.fixture
def configs(dynamodb: Any, settings: Settings, clock: Clock) -> ConfigurationStore:
    return ConfigurationStore(dynamodb, settings.CONFIGURATIONS_TABLE, clock=clock)


def new(name: str = "Tech", tickers: list[str] | None = None) -> ConfigurationIn:
    return ConfigurationIn(name=name, tickers=tickers or ["AAPL", "MSFT"])


def fill(
    configs: ConfigurationStore, user: str, count: int, clock: Clock | None = None
) -> list[Configuration]:
    """``count`` configurations, one clock second apart when a clock is given."""
    created = []
    for n in range(count):
        if clock:
            clock.advance(seconds=1)
        created.append(configs.create(user, new(f"list {n}")))
    return created


def test_create_get_and_list(configs: ConfigurationStore, clock: Clock) -> None:
    """A created configuration has a fresh hex id and both timestamps at the clock's now."""
    created = configs.create(ALICE, new("  Tech  ", ["AAPL", "BRK.B"]))

    assert re.fullmatch(r"[0-9a-f]{32}", created.config_id)
    assert (created.name, created.tickers) == ("Tech", ["AAPL", "BRK.B"])
    assert created.created_at == created.updated_at == clock.now
    assert configs.get(ALICE, created.config_id) == created
    assert configs.list(ALICE) == [created]


def test_list_is_oldest_first_and_per_user(configs: ConfigurationStore, clock: Clock) -> None:
    first = configs.create(ALICE, new("first"))
    clock.advance(seconds=1)
    bobs = configs.create(BOB, new("bob's"))
    clock.advance(seconds=1)
    second = configs.create(ALICE, new("second"))

    assert [c.config_id for c in configs.list(ALICE)] == [first.config_id, second.config_id]
    assert configs.list(BOB) == [bobs]
    assert configs.list("c" * 32) == []


def test_another_users_configuration_does_not_exist(configs: ConfigurationStore) -> None:
    """Every operation on someone else's id is NotFound, and leaves it untouched."""
    owned = configs.create(ALICE, new())
    with pytest.raises(ConfigurationNotFoundError):
        configs.get(BOB, owned.config_id)
    with pytest.raises(ConfigurationNotFoundError):
        configs.update(BOB, owned.config_id, ConfigurationPatch(name="stolen"))
    with pytest.raises(ConfigurationNotFoundError):
        configs.delete(BOB, owned.config_id)

    assert configs.get(ALICE, owned.config_id) == owned
    assert configs.list(BOB) == []


def test_update_name_only_then_tickers_only(configs: ConfigurationStore, clock: Clock) -> None:
    created = configs.create(ALICE, new("Tech", ["AAPL"]))
    renamed_at = clock.advance(minutes=5)

    renamed = configs.update(ALICE, created.config_id, ConfigurationPatch(name="Renamed"))

    assert (renamed.name, renamed.tickers) == ("Renamed", ["AAPL"])
    assert (renamed.created_at, renamed.updated_at) == (created.created_at, renamed_at)

    retickered_at = clock.advance(minutes=5)
    retickered = configs.update(
        ALICE, created.config_id, ConfigurationPatch(tickers=["TSLA", "NVDA"])
    )

    assert (retickered.name, retickered.tickers) == ("Renamed", ["TSLA", "NVDA"])
    assert retickered.updated_at == retickered_at
    assert configs.get(ALICE, created.config_id) == retickered


def test_update_of_a_missing_configuration_creates_nothing(configs: ConfigurationStore) -> None:
    with pytest.raises(ConfigurationNotFoundError):
        configs.update(ALICE, "f" * 32, ConfigurationPatch(name="ghost"))
    assert configs.list(ALICE) == []


def test_delete(configs: ConfigurationStore) -> None:
    keep, gone = fill(configs, ALICE, 2)
    configs.delete(ALICE, gone.config_id)

    assert configs.list(ALICE) == [keep]
    with pytest.raises(ConfigurationNotFoundError):
        configs.get(ALICE, gone.config_id)
    with pytest.raises(ConfigurationNotFoundError):
        configs.delete(ALICE, gone.config_id)


def test_at_most_five_per_user(configs: ConfigurationStore, clock: Clock) -> None:
    """The sixth create fails; deleting one makes room; other users have their own five."""
    five = fill(configs, ALICE, 5, clock)
    with pytest.raises(ConfigurationLimitError):
        configs.create(ALICE, new("sixth"))
    assert len(configs.list(ALICE)) == 5

    configs.delete(ALICE, five[0].config_id)
    clock.advance(seconds=1)
    replacement = configs.create(ALICE, new("replacement"))
    assert configs.list(ALICE) == [*five[1:], replacement]
    with pytest.raises(ConfigurationLimitError):
        configs.create(ALICE, new("sixth again"))

    assert len(fill(configs, BOB, 5)) == 5


def test_failed_deletes_do_not_free_slots(configs: ConfigurationStore) -> None:
    """Deleting missing ids (never created, or already deleted) must not lower the count."""
    for _ in range(3):
        with pytest.raises(ConfigurationNotFoundError):
            configs.delete(ALICE, "e" * 32)
    fill(configs, ALICE, 5)
    with pytest.raises(ConfigurationNotFoundError):
        configs.delete(ALICE, "e" * 32)
    with pytest.raises(ConfigurationLimitError):
        configs.create(ALICE, new("sixth"))
    assert len(configs.list(ALICE)) == 5


def test_limit_holds_under_concurrent_creates(
    configs: ConfigurationStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Eight simultaneous creates for one user: exactly five succeed."""
    serialize_moto_transactions(monkeypatch)

    def create(n: int) -> str:
        try:
            configs.create(ALICE, new(f"racer {n}"))
        except ConfigurationLimitError:
            return "limit"
        return "created"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(create, range(8)))

    assert sorted(outcomes) == ["created"] * 5 + ["limit"] * 3
    assert len(configs.list(ALICE)) == 5


@pytest.mark.parametrize("operation", ["get", "update", "delete"])
def test_the_count_row_is_not_a_configuration(configs: ConfigurationStore, operation: str) -> None:
    """The per-user ``#count`` bookkeeping row is never reachable as a configuration."""
    fill(configs, ALICE, 1)
    call = {
        "get": lambda: configs.get(ALICE, "#count"),
        "update": lambda: configs.update(ALICE, "#count", ConfigurationPatch(name="x")),
        "delete": lambda: configs.delete(ALICE, "#count"),
    }[operation]
    with pytest.raises(ConfigurationNotFoundError):
        call()
    assert [c.name for c in configs.list(ALICE)] == ["list 0"]


def test_timestamps_survive_the_round_trip(configs: ConfigurationStore, clock: Clock) -> None:
    """Stored timestamps read back as the same aware UTC instants (microseconds kept)."""
    clock.now = datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC)
    created = configs.create(ALICE, new())
    clock.now = datetime(2026, 11, 22, 0, 0, 0, 1, tzinfo=UTC)
    updated = configs.update(ALICE, created.config_id, ConfigurationPatch(name="later"))

    [read] = configs.list(ALICE)
    assert read.created_at == datetime(2026, 11, 21, 23, 59, 59, 999999, tzinfo=UTC)
    assert read.updated_at == updated.updated_at == clock.now
