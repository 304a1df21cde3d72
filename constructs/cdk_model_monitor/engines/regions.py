"""Where CloudFormation has the native engine's resource types.

SageMaker Model Monitor's CloudFormation types (the schedule, the typed job definitions) are missing in some
regions where SageMaker itself runs (af-south-1, eu-south-1, il-central-1, the job definitions in cn-*, ...).
A template with one of them is refused there as a whole ("Unrecognized resource types"), so a stack pinned to
such a region is refused at synth instead, naming the standalone engine, which needs none of them. The table is
cfn-lint's data, generated into ``_native_regions.py`` (``_generate_native_regions.py``).
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Annotations, Stack, Token
from constructs import Construct

from .. import _native_regions
from ..errors import ConfigurationError

WARNING_ID = "cdk-model-monitor:native-engine-regions"


def regions_lacking(resource_types: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """``{region: the types of resource_types CloudFormation lacks there}``, for the regions that lack any."""
    lacking = {region: tuple(t for t in resource_types if t in missing)
               for region, missing in _native_regions.MISSING_RESOURCE_TYPES.items()}
    return {region: types for region, types in lacking.items() if types}


def check_native_region(scope: Construct, resource_types: Sequence[str]) -> None:
    """Refuse a stack pinned to a region whose CloudFormation lacks one of ``resource_types``; for a stack
    deployable to any region (its region is a token), warn once per set of types with the regions that lack
    them, since CloudFormation itself refuses the template there before creating anything."""
    region = Stack.of(scope).region
    by_region = regions_lacking(resource_types)
    if not Token.is_unresolved(region):
        lacking = by_region.get(region)
        if lacking:
            raise ConfigurationError(
                scope, "region", region,
                f"The native engine (Engine.MODEL_MONITOR) needs {', '.join(lacking)}, which CloudFormation does "
                f"not have in {region} ({_native_regions.SOURCE}): use engine=Engine.STANDALONE, which runs in "
                "every region, or deploy to a region that has them.")
        return
    if by_region:
        types = sorted({t for lacking in by_region.values() for t in lacking})
        Annotations.of(scope).add_warning_v2(
            WARNING_ID,
            f"The native engine (Engine.MODEL_MONITOR) creates {', '.join(types)}, which CloudFormation does not "
            f"have in {', '.join(sorted(by_region))} ({_native_regions.SOURCE}): a deployment there is refused. "
            "Give the stack a region (env=Environment(region=...)) to have it checked at synth, or use "
            "engine=Engine.STANDALONE there.")
