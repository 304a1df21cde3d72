"""Evidently's DataDriftPreset on the benchmark's baseline (reference) and capture (current).

Run in the peers' environment. Prints load and compute seconds, row counts and the drifted columns.
"""

from __future__ import annotations

from bench.contenders.frames import column_kinds, run_peer


def drift_report(reference, current) -> list[str]:
    """Run DataDriftPreset (Evidently's default tests per column type and size); return drifted columns."""
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    numerical, categorical = column_kinds(reference)
    definition = DataDefinition(numerical_columns=numerical, categorical_columns=categorical)
    snapshot = Report([DataDriftPreset()]).run(
        Dataset.from_pandas(current, data_definition=definition),
        Dataset.from_pandas(reference, data_definition=definition),
    )
    drifted = []
    for metric in snapshot.dict()["metrics"]:
        config = metric["config"]
        if config.get("type", "").endswith(":ValueDrift") and metric["value"] >= config["threshold"]:
            drifted.append(config["column"])
    return drifted


def main(argv: list[str] | None = None) -> None:
    run_peer("evidently", drift_report, __doc__.split("\n")[0], argv)


if __name__ == "__main__":
    main()
