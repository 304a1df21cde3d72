"""Where SageMaker attaches a job's or a model's network interfaces: a VPC's subnets and security groups."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from constructs import Construct

from .errors import ConfigurationError

# SageMaker creates and removes the network interfaces with the execution role; these actions take no
# resource ARNs (the role's "*" is acknowledged with its metric statement, see roles.py).
VPC_ACCESS_ACTIONS = ("ec2:CreateNetworkInterface", "ec2:CreateNetworkInterfacePermission",
                      "ec2:DeleteNetworkInterface", "ec2:DeleteNetworkInterfacePermission",
                      "ec2:DescribeNetworkInterfaces", "ec2:DescribeVpcs", "ec2:DescribeDhcpOptions",
                      "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups")


@dataclass(frozen=True)
class VpcPlacement:
    """The subnets and security groups a job or a model runs in, resolved at synth."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    security_groups: tuple[ec2.ISecurityGroup, ...]
    """The groups as constructs (empty for the deprecated id strings): ``connections`` is built from them."""

    def to_api(self) -> dict[str, list[str]]:
        """The SageMaker APIs' ``VpcConfig`` (PascalCase keys)."""
        return {"Subnets": list(self.subnet_ids), "SecurityGroupIds": list(self.security_group_ids)}

    @property
    def connections(self) -> ec2.Connections:
        """The security groups as ``ec2.Connections``, e.g. to let them reach a database."""
        return ec2.Connections(security_groups=list(self.security_groups))


def place_in_vpc(scope: Construct, *, prop_prefix: str, description: str, vpc: ec2.IVpc | None,
                 vpc_subnets: ec2.SubnetSelection | None, security_groups: Sequence[ec2.ISecurityGroup] | None,
                 subnet_ids: Sequence[str], security_group_ids: Sequence[str]) -> VpcPlacement | None:
    """The VPC placement of ``scope``'s job or model, or None outside a VPC.

    Given a ``vpc`` without ``security_groups``, one security group is created in ``scope`` (no inbound rules,
    all outbound: SageMaker reaches S3 and ECR through it), as aws-cdk-lib's Lambda functions do.
    ``subnet_ids`` / ``security_group_ids`` are the deprecated form, taken as given.
    """
    _check_types(scope, prop_prefix, vpc=vpc, vpc_subnets=vpc_subnets, security_groups=security_groups,
                 subnet_ids=subnet_ids, security_group_ids=security_group_ids)
    if vpc is None:
        for prop, value in (("vpc_subnets", vpc_subnets), ("security_groups", security_groups)):
            if value is not None:
                raise ConfigurationError(scope, f"{prop_prefix}{prop}", value,
                                         f"Give {prop_prefix}vpc=... (an ec2.IVpc) with {prop}.")
        if not subnet_ids and not security_group_ids:
            return None
        warnings.warn(f"{scope.node.path}: {prop_prefix}subnet_ids and {prop_prefix}security_group_ids are "
                      "deprecated; use vpc=ec2.IVpc, vpc_subnets=ec2.SubnetSelection and "
                      "security_groups=[ec2.ISecurityGroup]", DeprecationWarning, stacklevel=3)
        if not subnet_ids or not security_group_ids:
            raise ConfigurationError(scope, f"{prop_prefix}{'security_group_ids' if subnet_ids else 'subnet_ids'}",
                                     (), "Give both subnet_ids and security_group_ids to run in a VPC "
                                         "(or vpc=..., which creates a security group).")
        return VpcPlacement(tuple(subnet_ids), tuple(security_group_ids), ())
    if subnet_ids or security_group_ids:
        given = "subnet_ids" if subnet_ids else "security_group_ids"
        raise ConfigurationError(scope, f"{prop_prefix}{given}", tuple(subnet_ids) or tuple(security_group_ids),
                                 "Give either vpc (with vpc_subnets and security_groups) or the deprecated "
                                 "subnet_ids and security_group_ids, not both.")
    try:
        selected = vpc.select_subnets(**_selection_arguments(vpc_subnets))
    except RuntimeError as err:  # aws-cdk-lib's own words: which subnet groups the VPC has
        raise ConfigurationError(scope, f"{prop_prefix}vpc_subnets", vpc_subnets,
                                 f"The selection matches no subnet of the VPC ({str(err).splitlines()[0]}).") from None
    if not selected.subnet_ids:
        raise ConfigurationError(scope, f"{prop_prefix}vpc_subnets", vpc_subnets,
                                 "The selection matches no subnet of the VPC: select subnets it has, e.g. "
                                 "ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).")
    groups = tuple(security_groups or ()) or (
        ec2.SecurityGroup(scope, "SecurityGroup", vpc=vpc, description=description, allow_all_outbound=True),)
    return VpcPlacement(tuple(selected.subnet_ids), tuple(g.security_group_id for g in groups), groups)


def _check_types(scope: Construct, prefix: str, *, vpc: object, vpc_subnets: object, security_groups: object,
                 subnet_ids: object, security_group_ids: object) -> None:
    """Refuse values of the wrong kind here, naming the parameter (they would fail deep in CDK, or, for a
    string where ids go, be split into characters)."""
    if vpc is not None and not hasattr(vpc, "select_subnets"):
        raise ConfigurationError(scope, f"{prefix}vpc", vpc,
                                 "Use an ec2.IVpc, e.g. ec2.Vpc.from_vpc_attributes(...) or ec2.Vpc.from_lookup(...).")
    if vpc_subnets is not None and not isinstance(vpc_subnets, ec2.SubnetSelection):
        raise ConfigurationError(scope, f"{prefix}vpc_subnets", vpc_subnets,
                                 "Use an ec2.SubnetSelection, e.g. ec2.SubnetSelection(subnets=[...]) or "
                                 "ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS).")
    if security_groups is not None and (
            isinstance(security_groups, str) or not isinstance(security_groups, Sequence)
            or not all(hasattr(group, "security_group_id") for group in security_groups)):
        raise ConfigurationError(scope, f"{prefix}security_groups", security_groups,
                                 "Use a list of ec2.ISecurityGroup, e.g. [ec2.SecurityGroup.from_security_group_id(...)].")
    for prop, ids in (("subnet_ids", subnet_ids), ("security_group_ids", security_group_ids)):
        if isinstance(ids, str) or not all(isinstance(one, str) for one in ids):  # type: ignore[attr-defined]
            raise ConfigurationError(scope, f"{prefix}{prop}", ids, "Use a list of id strings, e.g. ['subnet-0abc...'].")


def _selection_arguments(selection: ec2.SubnetSelection | None) -> dict[str, Any]:
    """``selection`` as ``IVpc.select_subnets`` keyword arguments (jsii's Python takes the struct's fields)."""
    if selection is None:
        return {}
    names = ("availability_zones", "one_per_az", "subnet_filters", "subnet_group_name", "subnets", "subnet_type")
    return {n: getattr(selection, n) for n in names if getattr(selection, n) is not None}


def grant_vpc_access(role: iam.Role) -> None:
    """Let SageMaker attach ``role``'s job or model to the VPC (network interfaces, no resource ARNs)."""
    role.add_to_policy(iam.PolicyStatement(actions=list(VPC_ACCESS_ACTIONS), resources=["*"]))
