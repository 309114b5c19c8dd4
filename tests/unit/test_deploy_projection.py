"""The deploy projection's model: what bounds a deploy-time rebuild on Lambda, and when it
would miss CloudFormation's limits."""

from __future__ import annotations

import pytest

from bench.deploy_projection import Figures, batch_seconds, main, simulate

FIGURES = Figures()


def test_a_first_build_over_many_dags_is_bound_by_the_registry_writes() -> None:
    projection = simulate(50_000, 1_000, 4_000, FIGURES)

    assert projection.bound == "registry writes"
    assert projection.peak_writes_per_s == pytest.approx(4_000)
    writes_alone = 50_000 * FIGURES.items_per_dag / 4_000
    assert writes_alone < projection.build_s < writes_alone + 30


def test_pre_warming_the_registry_shortens_a_write_bound_build() -> None:
    cold = simulate(50_000, 100, 4_000, FIGURES)
    warm = simulate(50_000, 100, 12_000, FIGURES)

    assert warm.total_s < cold.total_s / 2


def test_more_workers_build_faster_until_the_writes_bound_them() -> None:
    times = [simulate(50_000, c, 1_000_000, FIGURES).build_s for c in (2, 20, 100)]

    assert times[0] > times[1] > times[2]
    assert simulate(50_000, 2, 1_000_000, FIGURES).bound == "workers"


def test_a_small_rebuild_ends_before_the_poller_has_ramped_up() -> None:
    small = simulate(500, 1_000, 1_000_000, FIGURES)

    assert small.bound == "ramp-up of the SQS poller"
    assert small.build_s < FIGURES.cold_start_s + 2 * batch_seconds(FIGURES) + 1


def test_a_deploy_that_would_outlast_cloudformation_is_flagged() -> None:
    assert simulate(50_000, 20, 12_000, FIGURES).within_limits
    assert not simulate(200_000, 2, 12_000, FIGURES).within_limits


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["--dags", "abc"], "not a number: 'abc'"),
        (["--concurrency", "20,0"], "must be > 0: 0"),
        (["--cpu-ms-per-dag", "nan"], "must be a finite number"),
        (["--dags", "99999999999"], "must be a finite number up to 10,000,000"),
    ],
)
def test_a_bad_flag_is_one_error_line_not_a_simulation(
    flags: list[str], says: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["deploy_projection", *flags])

    with pytest.raises(SystemExit) as exited:
        main()

    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert says in err[-1]
    assert not any("Traceback" in line for line in err)
