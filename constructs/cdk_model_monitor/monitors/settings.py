"""What every monitor is given: its target (``MonitorTarget``: what it watches, its baseline, storage and schedule,
which the facade sets for the monitors it creates) and its settings (``MonitorSettings``, the common part of each
monitor type's settings class in ``monitors/<type>/settings.py``, which the facade takes as is).

A monitor's keyword parameters are these classes' fields, by name (``from_arguments``): the settings classes
are the one description of what each monitor type can set."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any, ClassVar, TypeVar

from aws_cdk import Duration
from aws_cdk import aws_kms as kms

from ..baseline import Baseline
from ..batch import BatchTransformSource
from ..endpoint import CaptureMode, ICapturedEndpoint
from ..images import AnalyzerImage
from ..job import Engine, JobCompute, JobNetwork
from ..scale_out import ScaleOut
from ..schedule import Schedule
from ..storage import MonitoringBucket

# How long after its inference a label may arrive and still be joined, unless a label-joining monitor says.
DEFAULT_GROUND_TRUTH_LOOKBACK = Duration.days(1)


@dataclass(frozen=True, kw_only=True)
class MonitorSettings:
    """What every monitor the facade creates may set besides its baseline and schedule.

    :param variant: the production variant whose traffic is analysed. Default: the endpoint's first
        (the ``variant`` given to ``CapturedEndpoint.from_endpoint_attributes``).
    :param engine: Default: the facade's ``engine``.
    :param image: Default: the facade's ``image`` (the project's analyzer).
    :param compute: Default: the facade's ``compute`` (else ``JobCompute()``).
    :param network: Default: the facade's ``network`` (else ``JobNetwork()``).
    :param environment: extra environment of the analyzer. Default: none.
    :param schedule_name: Default: a unique name derived from the construct path.
    :param asset_kms_key: Default: the facade's ``asset_kms_key``.
    :param scale_out: large windows on EMR Serverless (standalone engine). Default: the facade's ``scale_out``
        (else none: every window on one Processing instance).
    """

    variant: str | None = None
    engine: Engine | None = None
    image: AnalyzerImage | None = None
    compute: JobCompute | None = None
    network: JobNetwork | None = None
    environment: Mapping[str, str] | None = None
    schedule_name: str | None = None
    asset_kms_key: kms.IKey | None = None
    scale_out: ScaleOut | None = None


@dataclass(frozen=True, kw_only=True)
class MonitorTarget:
    """What a monitor watches, against which baseline, where it keeps its files and when it runs (see
    ``DataQualityMonitor``'s parameters); the facade sets these itself for the monitors it creates."""

    baseline: Baseline
    endpoint: ICapturedEndpoint | None = None
    endpoint_name: str | None = None
    capture_s3_uri: str | None = None
    capture_key: kms.IKey | None = None
    capture_modes: Sequence[CaptureMode] | None = None
    storage: MonitoringBucket | None = None
    schedule: Schedule | None = None
    batch_source: BatchTransformSource | None = None


@dataclass(frozen=True, kw_only=True)
class MonitorProps:
    """A monitor the facade creates.

    :param baseline: its baseline (``Baseline.from_directory`` lets the alarms read the features and
        thresholds at synth).
    :param schedule: Default: the facade's ``schedule``.
    :param settings: the monitor type's settings (``DataQualitySettings``, ``ModelQualitySettings``,
        ``BiasSettings``). A mapping of the same names is still read, deprecated, and checked alike.
    """

    settings_type: ClassVar[type[MonitorSettings]] = MonitorSettings
    """The monitor type's settings class (each type's props name their own)."""

    baseline: Baseline
    schedule: Schedule | None = None
    settings: MonitorSettings | Mapping[str, Any] | None = None


_Fields = TypeVar("_Fields", bound=MonitorSettings | MonitorTarget)


def from_arguments(cls: type[_Fields], arguments: Mapping[str, Any]) -> _Fields:
    """An instance of the dataclass ``cls`` from the entries of ``arguments`` (a monitor's keyword arguments,
    ``locals()``) named as its fields."""
    return cls(**{f.name: arguments[f.name] for f in fields(cls)})
