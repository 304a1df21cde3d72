"""Acknowledging cdk-nag findings that a construct cannot avoid, each with its reason.

cdk-nag 3 names a granular finding after the resource as it renders it in the template, e.g.
``AwsSolutions-IAM5[Resource::<Bucket83908E77.Arn>/datacapture/*]``. ``finding_id`` derives that
name from the same token the policy uses, so an acknowledgment follows the resource when its
logical id changes.
"""

from __future__ import annotations

from typing import Any, TypeGuard

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct


def _render(node: Any) -> str:
    if isinstance(node, str):
        return node
    if isinstance(node, (int, float)):
        return str(node)
    if isinstance(node, dict) and len(node) == 1:
        ((fn, arg),) = node.items()
        if fn == "Ref":
            return f"<{arg}>"
        if fn == "Fn::GetAtt":
            return f"<{arg[0]}.{arg[1]}>"
        if fn == "Fn::Join":
            separator, parts = arg
            return separator.join(_render(p) for p in parts)
    raise ValueError(f"cannot render {node!r} as a cdk-nag finding")


def finding_id(scope: IConstruct, rule: str, resource: str) -> str:
    """The granular finding id of ``rule`` for ``resource`` (an ARN string or token)."""
    return f"{rule}[Resource::{_render(Stack.of(scope).resolve(resource))}]"


def is_construct(value: object) -> TypeGuard[IConstruct]:
    """Whether ``value`` (a grantee's principal, say) is a construct of this app, which can carry an
    acknowledgment; an imported or service principal is not. jsii hands back interface proxies that are no
    ``Construct`` subclasses, so the node is what tells."""
    return hasattr(value, "node")


def acknowledge(scope: IConstruct, rule: str, reason: str, *, resource: str | None = None) -> None:
    """Acknowledge ``rule`` (optionally for one resource) on ``scope`` and its children."""
    rule_id = finding_id(scope, rule, resource) if resource is not None else rule
    Validations.of(scope).acknowledge(Acknowledgment(id=rule_id, reason=reason))
