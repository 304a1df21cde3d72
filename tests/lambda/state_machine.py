"""Run the standalone engine's synthesized state machine in-process: the real Lambda handlers, AWS in moto.

Step Functions cannot run here, so this walks the Amazon States Language definition the way the service does
for the subset the engine uses (Task with Parameters / ResultSelector / ResultPath / Retry / Catch, Pass,
Choice, Wait, Succeed, Fail; JSONPath ``$.a.b`` and ``$$.Execution.Id``; the intrinsics ``States.Format``,
``States.MathAdd``, ``States.Array`` and ``States.ArrayGetItem``, nested). Each execution is a generator that
yields after every state, so a test can interleave two executions state by state: the concurrency Step Functions
allows, deterministically. No time passes, but each execution notes what it would have waited: its Wait states and
the intervals before its retries (``Execution.waits``).

SageMaker's ``createProcessingJob.sync`` is moto's CreateProcessingJob, refused with SageMaker's
ResourceInUse message when the name exists (moto would overwrite it), and a job "runs" for a given number of
steps of the executions before it ends with the status ``Engine.job_status`` gives it (Completed unless a test
says otherwise): a job that ends otherwise fails the task with ``States.TaskFailed``, as the service does.

EMR Serverless's ``startJobRun.sync`` (scale-out) has no moto backend: a job run is recorded in ``Engine.spark_runs``
(its request as Step Functions sends it), runs for the same number of steps, and ends with the state
``Engine.spark_job_state`` gives it (SUCCESS unless a test says otherwise); any other end fails the task with
``States.TaskFailed`` and the job run's description as its cause.

Each execution is also known to moto's Step Functions under its ARN, with the status it has here (RUNNING, then
SUCCEEDED or FAILED; ``Engine.end`` times one out or aborts it), so that DescribeExecution from a handler sees
what the service would.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
from botocore.exceptions import ClientError
from moto.core import DEFAULT_ACCOUNT_ID
from moto.sagemaker.models import sagemaker_backends
from moto.stepfunctions.models import stepfunctions_backends

REGION = "us-east-1"
JOB_NAME_TAKEN = ("Job name must be unique within an AWS account and region, and a job with this name already "
                  "exists (Service: AmazonSageMaker; Status Code: 400; Error Code: ResourceInUse)")


class StatesError(Exception):
    """A Step Functions error: its name (what Retry and Catch match) and its cause."""

    def __init__(self, error: str, cause: str):
        super().__init__(f"{error}: {cause}")
        self.error, self.cause = error, cause


def definition_from_template(template: dict, values: Callable[[dict], str]) -> dict:
    """The state machine's ASL, with each CloudFormation reference replaced by ``values(reference)``."""
    [machine] = [r for r in template["Resources"].values() if r["Type"] == "AWS::StepFunctions::StateMachine"]
    source = machine["Properties"]["DefinitionString"]
    parts = source["Fn::Join"][1] if isinstance(source, dict) else [source]
    return json.loads("".join(p if isinstance(p, str) else values(p) for p in parts))


@dataclass
class Execution:
    """One execution: where it is, what it has done, how it ended."""

    execution_id: str
    visited: list[str] = field(default_factory=list)
    status: str = "RUNNING"
    output: Any = None
    error: StatesError | None = None
    waits: list[tuple[str, float]] = field(default_factory=list)  # (state, seconds) of each Wait and retry interval


@dataclass
class Engine:
    """The definition plus what its Task resources mean here."""

    definition: dict
    lambdas: dict[str, Callable[[dict, Any], Any]]  # Resource -> handler
    job_steps: int = 2  # how many interleaving steps a processing job runs
    max_states: int = 2000  # an execution that enters more states than this is taken for one that never ends
    caught: list[dict] = field(default_factory=list)  # every error a Catch handled, in order
    _running: dict[str, int] = field(default_factory=dict)
    _jobs_of: dict[str, str] = field(default_factory=dict)  # execution id -> the job it started last
    _current: str = ""  # the execution whose Task runs now (a Task starts its job without yielding)
    spark_runs: list[dict] = field(default_factory=list)  # each EMR Serverless job run's request, in order

    def job_status(self, name: str, arguments: dict) -> str:
        """The status a job ends with; tests replace this (e.g. with Failed for one job)."""
        return "Completed"

    def spark_job_state(self, name: str, arguments: dict) -> str:
        """The state an EMR Serverless job run ends in; tests replace this (e.g. with FAILED)."""
        return "SUCCESS"

    def on_spark_job_completed(self, name: str, arguments: dict) -> None:
        """What a finished Spark job leaves behind; tests replace this (e.g. with the analyzer's metric lines)."""

    def run(self, execution: Execution, payload: dict) -> Iterator[str]:
        """Run ``execution`` on ``payload``, yielding each state's name after it ran."""
        _register(execution, payload)
        states, name, data = self.definition["States"], self.definition["StartAt"], copy.deepcopy(payload)
        context = {"Execution": {"Id": execution.execution_id, "Input": payload}}
        self._current = execution.execution_id
        while True:
            state = states[name]
            execution.visited.append(name)
            if len(execution.visited) > self.max_states:
                raise AssertionError(f"{execution.execution_id} entered more than {self.max_states} states: it would "
                                     f"run until its timeout (last: {execution.visited[-5:]})")
            kind = state["Type"]
            if kind == "Succeed":
                self._finish(execution, "SUCCEEDED", output=data)
                yield name
                return
            if kind == "Fail":
                execution.error = StatesError(state.get("Error", ""), state.get("Cause", ""))
                self._finish(execution, "FAILED")
                yield name
                return
            if kind == "Choice":
                following = next((c["Next"] for c in state["Choices"] if _condition(c, data)), state.get("Default"))
                if following is None:
                    raise AssertionError(f"Choice {name} has no matching rule and no Default")
            elif kind == "Wait":
                seconds = _select(data, state["SecondsPath"], context) if "SecondsPath" in state else \
                    state.get("Seconds")
                if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
                    raise AssertionError(f"Wait {name} needs a number of seconds, got {seconds!r}")
                execution.waits.append((name, float(seconds)))
                following = state.get("Next")
            elif kind == "Pass":
                effective = _select(data, state.get("InputPath", "$"), context)
                result = _parameters(state["Parameters"], effective, context) if "Parameters" in state else \
                    state.get("Result", effective)
                data = _place(data, state.get("ResultPath", "$"), result)
                following = state.get("Next")
            elif kind == "Task":
                self._current = execution.execution_id
                try:
                    outcome = yield from self._task(state, data, context, execution, name)
                except Exception as error:  # no Catch: the execution fails with the error
                    execution.error = error if isinstance(error, StatesError) else StatesError(
                        type(error).__name__, str(error))
                    self._finish(execution, "FAILED")
                    raise
                following, data = outcome
            else:
                raise AssertionError(f"state type {kind} is not simulated")
            yield name
            if following is None:
                if state.get("End"):
                    self._finish(execution, "SUCCEEDED", output=data)
                    return
                raise AssertionError(f"{name} has neither Next nor End")
            name = following

    def _task(self, state: dict, data: Any, context: dict, execution: Execution, name: str):
        attempts: dict[int, int] = {}
        while True:
            try:
                arguments = _parameters(state.get("Parameters", {}), data, context)
                result = yield from self._call(state["Resource"], arguments)
                if "ResultSelector" in state:
                    result = _parameters(state["ResultSelector"], result, context)
                return state.get("Next"), _place(data, state.get("ResultPath", "$"), result)
            except (StatesError, ClientError) as error:
                if isinstance(error, ClientError):  # an AWS SDK integration's error, as Step Functions names it
                    service = error.operation_name and error.response.get("Error", {}).get("Code", "Error")
                    error = StatesError(f"SageMaker.{service}", str(error))
                retry = next(((i, r) for i, r in enumerate(state.get("Retry", []))
                              if _matches(r["ErrorEquals"], error.error)), None)
                if retry is not None and attempts.get(retry[0], 0) < retry[1].get("MaxAttempts", 3):
                    interval = retry[1].get("IntervalSeconds", 1) * retry[1].get("BackoffRate", 2.0) ** attempts.get(
                        retry[0], 0)
                    execution.waits.append((name, float(interval)))
                    attempts[retry[0]] = attempts.get(retry[0], 0) + 1
                    continue
                catch = next((c for c in state.get("Catch", []) if _matches(c["ErrorEquals"], error.error)), None)
                if catch is None:
                    raise
                caught = {"Error": error.error, "Cause": error.cause}
                self.caught.append(caught)
                return catch["Next"], _place(data, catch.get("ResultPath", "$"), caught)

    def _call(self, resource: str, arguments: dict):
        if resource in self.lambdas:
            try:
                return self.lambdas[resource](copy.deepcopy(arguments), None)
            except Exception as error:  # Lambda reports the exception's class name as the error
                cause = json.dumps({"errorMessage": str(error), "errorType": type(error).__name__})
                raise StatesError(type(error).__name__, cause) from None
            yield  # pragma: no cover - makes this a generator
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        if resource.endswith(":states:::sagemaker:createProcessingJob.sync"):
            name = arguments["ProcessingJobName"]
            if self._exists(name):
                raise StatesError("SageMaker.AmazonSageMakerException", JOB_NAME_TAKEN)
            sagemaker.create_processing_job(**arguments)
            self._running[name] = self.job_steps
            self._jobs_of[self._current] = name
            while self._running.get(name, 0) > 0:  # .sync: the task waits while the job runs
                yield "job running"
                self._running[name] -= 1
            status = self.job_status(name, arguments)
            if status != "Completed":
                _set_job_status(name, status)
                job = sagemaker.describe_processing_job(ProcessingJobName=name)
                raise StatesError("States.TaskFailed", json.dumps(job, default=str))
            self.on_job_completed(name, arguments)
            return sagemaker.describe_processing_job(ProcessingJobName=name)
        if resource.endswith(":states:::emr-serverless:startJobRun.sync"):
            name = arguments["Name"]
            self.spark_runs.append(copy.deepcopy(arguments))
            run_id = f"00f{len(self.spark_runs):013d}"
            self._running[name] = self.job_steps
            self._jobs_of[self._current] = name
            while self._running.get(name, 0) > 0:  # .sync: the task waits while the job runs
                yield "job running"
                self._running[name] -= 1
            state = self.spark_job_state(name, arguments)
            run = {"ApplicationId": arguments["ApplicationId"], "JobRunId": run_id, "Name": name, "State": state,
                   "Arn": f"arn:aws:emr-serverless:{REGION}:{DEFAULT_ACCOUNT_ID}:/applications/"
                          f"{arguments['ApplicationId']}/jobruns/{run_id}"}
            if state != "SUCCESS":
                raise StatesError("States.TaskFailed", json.dumps(
                    {"JobRun": {**run, "StateDetails": f"Job run {state.lower()}: the driver exited with code 2"}}))
            self.on_spark_job_completed(name, arguments)
            return run
        if resource.endswith(":states:::aws-sdk:sagemaker:describeProcessingJob"):
            name = arguments["ProcessingJobName"]
            job = sagemaker.describe_processing_job(ProcessingJobName=name)
            if self._running.get(name, 0) > 0:
                self._running[name] -= 1
                return {**job, "ProcessingJobStatus": "InProgress"}
            return job
        if resource.endswith(":states:::aws-sdk:cloudwatch:putMetricData"):
            boto3.client("cloudwatch", region_name=REGION).put_metric_data(**arguments)
            return {}
        raise AssertionError(f"Task resource {resource} is not simulated")

    def start_job_elsewhere(self, arguments: dict, *, steps: int) -> None:
        """A job of this window started outside the executions (an earlier attempt), running ``steps`` more."""
        boto3.client("sagemaker", region_name=REGION).create_processing_job(**arguments)
        self._running[arguments["ProcessingJobName"]] = steps

    def end(self, execution: Execution, status: str) -> None:
        """End a running ``execution`` from outside, as Step Functions does when it times out (TIMED_OUT) or a
        user stops it (ABORTED): its run is not advanced any more, and the job it runs is stopped (the .sync
        integration's cleanup)."""
        assert status in ("TIMED_OUT", "ABORTED"), status
        job = self._jobs_of.get(execution.execution_id)
        if job is not None and self._running.get(job, 0) > 0:
            self._running[job] = 0
            boto3.client("sagemaker", region_name=REGION).stop_processing_job(ProcessingJobName=job)
        self._finish(execution, status)

    def _finish(self, execution: Execution, status: str, *, output: Any = None) -> None:
        execution.status, execution.output = status, output
        backend = stepfunctions_backends[DEFAULT_ACCOUNT_ID][REGION]
        backend.describe_execution(execution.execution_id).status = status

    def on_job_completed(self, name: str, arguments: dict) -> None:
        """What a finished job leaves behind; tests replace this (e.g. with the analyzer's metric lines)."""

    def _exists(self, name: str) -> bool:
        sagemaker = boto3.client("sagemaker", region_name=REGION)
        return any(j["ProcessingJobName"] == name for j in sagemaker.list_processing_jobs()["ProcessingJobSummaries"])




def _machine_and_name(execution_id: str) -> tuple[str, str]:
    """(state machine name, execution name) of an execution ARN."""
    match = re.fullmatch(r"arn:aws:states:[^:]+:\d{12}:execution:([^:]+):([^:]+)", execution_id)
    if match is None:
        raise AssertionError(f"{execution_id} is not an execution ARN of {REGION}")
    return match.group(1), match.group(2)


def _register(execution: Execution, payload: dict) -> None:
    """Start ``execution`` in moto's Step Functions under its ARN (creating its state machine once)."""
    machine, name = _machine_and_name(execution.execution_id)
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = f"arn:aws:states:{REGION}:{DEFAULT_ACCOUNT_ID}:stateMachine:{machine}"
    if arn not in {m["stateMachineArn"] for m in sfn.list_state_machines()["stateMachines"]}:
        sfn.create_state_machine(name=machine, definition=json.dumps({"StartAt": "S", "States": {
            "S": {"Type": "Succeed"}}}), roleArn=f"arn:aws:iam::{DEFAULT_ACCOUNT_ID}:role/{machine}")
    started = sfn.start_execution(stateMachineArn=arn, name=name, input=json.dumps(payload))
    assert started["executionArn"] == execution.execution_id, started


def _set_job_status(name: str, status: str) -> None:
    """Make moto's job end ``status`` (moto's jobs are Completed at once)."""
    sagemaker_backends[DEFAULT_ACCOUNT_ID][REGION].processing_jobs[name].processing_job_status = status


def interleave(*runs: Iterator[str]) -> None:
    """Advance each run one state at a time, in turn, until all have ended."""
    pending = list(runs)
    while pending:
        for run in list(pending):
            try:
                next(run)
            except StopIteration:
                pending.remove(run)


def _matches(names: list[str], error: str) -> bool:
    return error in names or "States.ALL" in names


def _condition(rule: dict, data: Any) -> bool:
    if "Or" in rule:
        return any(_condition(r, data) for r in rule["Or"])
    if "And" in rule:
        return all(_condition(r, data) for r in rule["And"])
    if "Not" in rule:
        return not _condition(rule["Not"], data)
    value = _select(data, rule["Variable"], {})
    if "BooleanEquals" in rule:
        return value is rule["BooleanEquals"]
    if "StringEquals" in rule:
        return value == rule["StringEquals"]
    if "NumericLessThan" in rule:
        return isinstance(value, int | float) and not isinstance(value, bool) and value < rule["NumericLessThan"]
    if "StringMatches" in rule:
        pattern = "".join(".*" if c == "*" else re.escape(c) for c in rule["StringMatches"])
        return isinstance(value, str) and re.fullmatch(pattern, value, re.DOTALL) is not None
    raise AssertionError(f"Choice rule {rule} is not simulated")


def _select(data: Any, path: str, context: dict) -> Any:
    root, rest = (context, path[2:]) if path.startswith("$$") else (data, path[1:])
    for part in filter(None, rest.split(".")):
        if not isinstance(root, dict) or part not in root:
            raise StatesError("States.Runtime", f"the JSONPath {path} could not be found in the input")
        root = root[part]
    return root


def _place(data: Any, path: str | None, result: Any) -> Any:
    if path is None:
        return data
    if path == "$":
        return result
    data = copy.deepcopy(data)
    target = data
    *parents, last = path[2:].split(".")
    for part in parents:
        target = target.setdefault(part, {})
    target[last] = result
    return data


def _parameters(template: Any, data: Any, context: dict) -> Any:
    if isinstance(template, dict):
        out = {}
        for key, value in template.items():
            if key.endswith(".$"):
                out[key[:-2]] = _intrinsic(value, data, context) if value.startswith("States.") else \
                    _select(data, value, context)
            else:
                out[key] = _parameters(value, data, context)
        return out
    if isinstance(template, list):
        return [_parameters(v, data, context) for v in template]
    return template


def _intrinsic(text: str, data: Any, context: dict) -> Any:
    """The value of an intrinsic function call (those the module docstring names), its arguments evaluated first."""
    value, rest = _call_intrinsic(text.strip(), data, context)
    if rest.strip():
        raise AssertionError(f"unexpected text after {text[: len(text) - len(rest)]!r}: {rest!r}")
    return value


def _call_intrinsic(text: str, data: Any, context: dict) -> tuple[Any, str]:
    match = re.match(r"(States\.[A-Za-z]+)\(", text)
    if not match:
        raise AssertionError(f"not an intrinsic function call: {text!r}")
    function, rest = match.group(1), text[match.end():]
    arguments: list[Any] = []
    while True:
        rest = rest.lstrip()
        if rest.startswith(")"):
            rest = rest[1:]
            break
        value, rest = _argument(rest, data, context)
        arguments.append(value)
        rest = rest.lstrip()
        if rest.startswith(","):
            rest = rest[1:]
    if function == "States.Format":
        template, *values = arguments
        pieces = template.split("{}")
        if len(pieces) != len(values) + 1:
            raise StatesError("States.Runtime", f"States.Format: {len(values)} values for {template!r}")
        texts = [value if isinstance(value, str) else json.dumps(value) for value in values]
        return "".join(piece + text for piece, text in zip(pieces, [*texts, ""], strict=True)), rest
    if function == "States.MathAdd":
        first, second = arguments
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (first, second)):
            raise StatesError("States.Runtime", f"States.MathAdd takes integers, not {first!r} and {second!r}")
        return first + second, rest
    if function == "States.Array":
        return arguments, rest
    if function == "States.ArrayGetItem":
        array, index = arguments
        if not isinstance(array, list) or not isinstance(index, int) or not 0 <= index < len(array):
            raise StatesError("States.Runtime", f"States.ArrayGetItem: no item {index!r} in {array!r}")
        return array[index], rest
    raise AssertionError(f"intrinsic {function} is not simulated")


def _argument(text: str, data: Any, context: dict) -> tuple[Any, str]:
    """One argument of an intrinsic function and the text after it: a quoted string, a number, a JSONPath or a
    nested call."""
    if text.startswith("'"):
        match = re.match(r"'((?:[^'\\]|\\.)*)'", text)
        if not match:
            raise AssertionError(f"unterminated string in {text!r}")
        return re.sub(r"\\(.)", r"\1", match.group(1)), text[match.end():]
    if text.startswith("States."):
        return _call_intrinsic(text, data, context)
    match = re.match(r"[^,)]+", text)
    if not match:
        raise AssertionError(f"no argument at {text!r}")
    token = match.group(0).strip()
    if token.startswith("$"):
        return _select(data, token, context), text[match.end():]
    return json.loads(token), text[match.end():]
