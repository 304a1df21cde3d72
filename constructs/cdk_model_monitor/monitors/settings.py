"""What every monitor may set besides its target, baseline and schedule: the common part of each monitor type's
settings class (``monitors/<type>/settings.py``), which the facade takes as is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_kms as kms

from ..images import AnalyzerImage
from ..job import Engine, JobCompute, JobNetwork

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
    """

    variant: str | None = None
    engine: Engine | None = None
    image: AnalyzerImage | None = None
    compute: JobCompute | None = None
    network: JobNetwork | None = None
    environment: Mapping[str, str] | None = None
    schedule_name: str | None = None
    asset_kms_key: kms.IKey | None = None
