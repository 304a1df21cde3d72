"""``--engine`` and ``--spark-master``: the local engine by default, the Spark runner asked for by name, and what
a user is told when Spark cannot run (no Spark session is started here)."""

from __future__ import annotations

import sys

import pytest

from model_monitor_analyzer import cli
from model_monitor_analyzer.errors import NotAvailableError
from model_monitor_analyzer.jobs import registry
from model_monitor_analyzer.jobs.options import engine_options
from model_monitor_analyzer.jobs.requests import Engine, EngineOptions
from model_monitor_analyzer.monitors.data_quality.command_line import baseline_request, monitor_request
from model_monitor_analyzer.spark.locations import remote_uri


@pytest.fixture
def no_spark_session(monkeypatch):
    """As in a fresh process: the runner takes an active session as it is (its master already chosen), and the
    Spark tests of the same pytest worker may have left one."""
    from pyspark.sql import SparkSession

    monkeypatch.setattr(SparkSession, "getActiveSession", staticmethod(lambda: None))


def _parse(*argv: str):
    return cli.build_parser("data-quality").parse_args(list(argv))


def test_the_local_engine_is_the_default():
    request = baseline_request(_parse("baseline", "--dataset", "d.csv", "--output", "out"))
    assert request.engine == EngineOptions(engine=Engine.LOCAL, spark_master=None)


def test_the_spark_engine_and_its_master_reach_the_request():
    request = monitor_request(_parse("monitor", "--engine", "spark", "--spark-master", "local[4]", "--capture", "c",
                                     "--statistics", "s.json", "--constraints", "c.json", "--output", "out"))
    assert request.engine == EngineOptions(engine=Engine.SPARK, spark_master="local[4]")


def test_spark_without_pyspark_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pyspark", None)  # import pyspark raises ImportError
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)
    dataset = tmp_path / "d.csv"
    dataset.write_text("a\n1\n")
    code = cli.main(["baseline", "--engine", "spark", "--dataset", str(dataset), "--output", str(tmp_path / "o")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.splitlines() == [error]
    assert "pip install 'pyspark>=4.0,<5'" in error
    assert not (tmp_path / "o").exists()


def test_a_type_the_spark_runner_does_not_run_yet_is_one_line():
    """Every monitor type has a Spark runner today; one without (its ``spark.<module>`` missing) is refused so."""
    unknown = registry.MonitorType(name="drift-of-nothing", module="drift_of_nothing", analysis_types=())
    with pytest.raises(NotAvailableError, match="--engine spark does not run --type drift-of-nothing yet: use "
                                                "--engine local"):
        registry.spark_runner(unknown)


def test_a_bias_baselines_missing_inputs_are_said_as_locally_before_spark_starts(tmp_path, capsys, monkeypatch):
    import model_monitor_analyzer.spark.bias as spark_bias

    monkeypatch.setattr(spark_bias, "spark_session", lambda engine: pytest.fail("Spark was started"))
    config = tmp_path / "analysis_config.json"
    argv = ["baseline", "--type", "bias", "--analysis-config", str(config), "--dataset", str(tmp_path / "d.csv"),
            "--output", str(tmp_path / "o")]
    for _ in range(2):  # a missing config, then (the config written) a missing dataset
        assert cli.main(argv) == 2
        local = capsys.readouterr().err.strip()
        assert cli.main([*argv, "--engine", "spark"]) == 2
        assert capsys.readouterr().err.strip() == local and local.splitlines() == [local]
        config.write_text('{"label": "y", "label_values_or_threshold": [1], "facet": [{"name_or_index": "a"}]}')
    assert "dataset not found" in local


def test_a_spark_master_without_the_spark_engine_is_refused(capsys):
    code = cli.main(["baseline", "--spark-master", "local[2]", "--dataset", "d.csv", "--output", "out"])
    assert code == 2 and "--spark-master applies to --engine spark only" in capsys.readouterr().err


@pytest.mark.parametrize("master", ["foo", "local[x]", "local[0]", "local[2", "spark:/host:7077", "yarn-cluster", ""])
def test_a_malformed_spark_master_is_one_line_before_spark_starts(tmp_path, capsys, monkeypatch, master):
    """Spark answers these with a JVM stack trace after its start-up; the analyzer refuses them before."""
    import model_monitor_analyzer.spark as spark_runner

    monkeypatch.setattr(spark_runner, "spark_session", lambda engine: pytest.fail("Spark was started"))
    code = cli.main(["baseline", "--engine", "spark", "--spark-master", master, "--dataset", str(tmp_path / "d.csv"),
                     "--output", str(tmp_path / "out")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "is not a Spark master URL" in err[0]


@pytest.mark.parametrize("master", ["local", "local[*]", "local[4]", "local[4,2]", "local[*,3]", "local-cluster[2,1,1024]",
                                    "spark://host-a:7077,host-b:7077", "yarn", "k8s://https://10.0.0.1:6443"])
def test_the_master_urls_spark_documents_are_taken(master):
    assert engine_options("spark", master).spark_master == master



@pytest.mark.parametrize(("given", "uri"), [
    ("s3:/bucket/reports/x", "s3://bucket/reports/x"),  # as a Path folds s3://bucket/reports/x
    ("s3://bucket/k", "s3://bucket/k"),
    ("s3a:/bucket/k", "s3a://bucket/k"),
    ("file:/srv/data", "file:///srv/data"),
    ("file:///srv/data", "file:///srv/data"),
    ("relative/folder", None),
    ("/srv/data", None),
])
def test_a_uri_folded_by_a_path_is_given_back(given, uri):
    assert remote_uri(given) == uri


def test_a_local_run_does_not_import_pyspark(tmp_path):
    import subprocess

    script = (
        "import sys\nfrom pathlib import Path\nfrom model_monitor_analyzer.cli import main\n"
        "root = Path(sys.argv[1])\n(root / 'd.csv').write_text('a,b\\n1,x\\n2,y\\n')\n"
        "assert main(['baseline', '--dataset', str(root / 'd.csv'), '--output', str(root / 'o'), '--quiet']) == 0\n"
        "print('pyspark' in sys.modules, 'py4j' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, check=True)
    assert done.stdout.strip().splitlines()[-1] == "False False"


@pytest.mark.parametrize("args", [
    ["baseline", "--dataset", "{missing}"],
    ["baseline", "--type", "model-quality", "--dataset", "{missing}", "--problem-type", "BinaryClassification",
     "--inference-attribute", "prediction", "--ground-truth-attribute", "label"],
    ["monitor", "--capture", "{missing}", "--statistics", "{missing}", "--constraints", "{missing}"],
    ["monitor", "--type", "model-quality", "--capture", "{missing}", "--ground-truth", "{missing}", "--constraints",
     "{missing}", "--problem-type", "BinaryClassification", "--inference-attribute", "prediction",
     "--ground-truth-attribute", "label"],
    ["monitor", "--type", "bias", "--capture", "{missing}", "--ground-truth", "{missing}", "--analysis-config",
     "{missing}", "--inference-attribute", "prediction"],
], ids=["data-quality baseline", "model-quality baseline", "data-quality monitor", "model-quality monitor", "bias"])
def test_a_missing_local_input_is_one_line_before_spark_starts(tmp_path, capsys, monkeypatch, args):
    from model_monitor_analyzer.spark import bias, data_quality, model_quality

    for module in (bias, data_quality, model_quality):
        monkeypatch.setattr(module, "spark_session", lambda engine: pytest.fail("Spark was started"))
    missing = str(tmp_path / "nope")
    code = cli.main([*(missing if arg == "{missing}" else arg for arg in args), "--output", str(tmp_path / "out"),
                     "--engine", "spark"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and err[0].endswith("not found: pass an existing file or folder (or an s3:// URI)")


def test_an_unreachable_standalone_master_is_one_line_before_spark_starts(tmp_path, capsys, no_spark_session):
    """A ``spark://`` master that takes no connection is said at once (Spark itself retries for about 80 s)."""
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()  # nothing listens there now: the connection is refused
    dataset = tmp_path / "d.csv"
    dataset.write_text("a\n1\n")
    code = cli.main(["baseline", "--engine", "spark", "--spark-master", f"spark://127.0.0.1:{port}",
                     "--dataset", str(dataset), "--output", str(tmp_path / "o")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.splitlines() == [error]
    assert f"spark://127.0.0.1:{port} takes no connection" in error
    assert not (tmp_path / "o").exists()


def test_a_listening_standalone_master_is_let_through_and_any_of_its_standbys_will_do():
    import socket

    from model_monitor_analyzer.spark import require_reachable_master

    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        port = listening.getsockname()[1]
        require_reachable_master(f"spark://127.0.0.1:{port}")
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        other = closed.getsockname()[1]
        closed.close()
        require_reachable_master(f"spark://127.0.0.1:{other},127.0.0.1:{port}")
    require_reachable_master("local[2]")  # not a standalone master: left to Spark


def test_yarn_without_its_configuration_is_one_line_before_spark_starts(tmp_path, capsys, monkeypatch,
                                                                        no_spark_session):
    """Spark's launcher would print a Java stack trace, and the gateway's exit would be blamed on the master or
    Java; the missing HADOOP_CONF_DIR / YARN_CONF_DIR is said instead."""
    from model_monitor_analyzer.spark import require_reachable_master

    monkeypatch.delenv("HADOOP_CONF_DIR", raising=False)
    monkeypatch.delenv("YARN_CONF_DIR", raising=False)
    dataset = tmp_path / "d.csv"
    dataset.write_text("a\n1\n")
    code = cli.main(["baseline", "--engine", "spark", "--spark-master", "yarn", "--dataset", str(dataset),
                     "--output", str(tmp_path / "o")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.splitlines() == [error]
    assert "--spark-master yarn needs the cluster's configuration: set HADOOP_CONF_DIR or YARN_CONF_DIR" in error
    assert not (tmp_path / "o").exists()
    monkeypatch.setenv("YARN_CONF_DIR", str(tmp_path))
    require_reachable_master("yarn")  # configured: left to Spark


@pytest.mark.parametrize("master", ["spark://no-port", "spark://host:port", "spark://:7077"])
def test_a_standalone_master_without_host_and_port_is_one_line(master):
    from model_monitor_analyzer.errors import AnalyzerInputError
    from model_monitor_analyzer.spark import require_reachable_master

    with pytest.raises(AnalyzerInputError, match="give each master as host:port"):
        require_reachable_master(master)


def test_the_local_engine_reads_file_uris_as_their_paths(tmp_path, capsys):
    """A ``file:`` URI given to the local engine is its path (the Spark runner takes both); the files are the same."""
    dataset = tmp_path / "d.csv"
    dataset.write_text("a,b\n1,x\n2,y\n3,x\n")
    assert cli.main(["baseline", "--dataset", str(dataset), "--output", str(tmp_path / "paths"), "--quiet"]) == 0
    assert cli.main(["baseline", "--dataset", dataset.as_uri(), "--output", (tmp_path / "uris").as_uri(),
                     "--quiet"]) == 0
    assert (tmp_path / "uris" / "constraints.json").read_text() == (tmp_path / "paths" / "constraints.json").read_text()


def test_an_s3_uri_given_to_the_local_engine_is_one_line(tmp_path, capsys):
    code = cli.main(["baseline", "--dataset", "s3://test-bucket/train/", "--output", str(tmp_path / "o")])
    error = capsys.readouterr().err.strip()
    assert code == 2 and error.splitlines() == [error]
    assert "--dataset s3://test-bucket/train: the local engine reads files on this machine" in error
    assert "--engine spark" in error and not (tmp_path / "o").exists()
