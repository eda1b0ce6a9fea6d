"""`lbaws scenario NAME --emit kubernetes DIR`: every scenario's manifests, written with no Docker engine,
each document valid against the OpenAPI schemas of a pinned Kubernetes release (kubernetes-validate,
offline, strict: a field the schema does not know fails), and stating what the catalog data states."""
import os
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from lab import inventory, lockdown
from scenarios import catalog
from scenarios.vocabulary import spec
from scenarios.executor.kubernetes import KUBERNETES_RELEASE, NAME, TRIAL_LABEL, dns_name

SERVERS = Path(__file__).resolve().parents[1] / "servers"
NO_ENGINE = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}


def emit(run_cli, folder, *args):
    result = run_cli(*args, "--emit", "kubernetes", str(folder), env=NO_ENGINE)
    assert result.returncode == 0, result.stderr
    return result


def documents(folder: Path) -> dict:
    """{path relative to folder: [document, ...]} of every manifest written."""
    return {str(path.relative_to(folder)): list(yaml.safe_load_all(path.read_text()))
            for path in sorted(folder.rglob("*.yaml"))}


def validate(doc: dict) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_RELEASE, strict=True)


def check_locked_down(pod_spec: dict, uid: int, cap_add=()):
    security = pod_spec["securityContext"]
    assert security["runAsUser"] == uid and security["runAsNonRoot"] is (uid != 0)
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    (container,) = pod_spec["containers"]
    own = container["securityContext"]
    assert own["capabilities"]["drop"] == list(lockdown.CAP_DROP)
    assert own["capabilities"].get("add", []) == list(cap_add)
    assert own["allowPrivilegeEscalation"] is False and own["readOnlyRootFilesystem"] is True
    assert own["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["limits"]["memory"] and container["resources"]["requests"]["cpu"]
    assert {"name": "tmp", "mountPath": "/tmp"} in container["volumeMounts"]
    assert pod_spec["automountServiceAccountToken"] is False
    return container


def selects(selector: dict, labels: dict) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions with In) against a Pod's labels."""
    plain = selector.get("matchLabels", selector if "matchExpressions" not in selector else {})
    return (all(labels.get(k) == v for k, v in plain.items())
            and all(labels.get(e["key"]) in e["values"] for e in selector.get("matchExpressions", [])))


@pytest.mark.parametrize("name", catalog.names())
def test_every_manifest_is_valid_kubernetes_and_states_the_trial(run_cli, tmp_path, name):
    scenario = catalog.get(name)
    out = emit(run_cli, tmp_path / "k8s", name, "--fast")
    written = documents(tmp_path / "k8s")
    for docs in written.values():
        for doc in docs:
            validate(doc)
    assert "namespace.yaml" in written and len(written) == 1 + 2 * len(scenario.trials)
    namespace, deny = written["namespace.yaml"]
    ns = namespace["metadata"]["name"]
    assert namespace["kind"] == "Namespace" and f"(namespace {ns})" in out.stdout and NAME.fullmatch(ns)
    assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    root = any(t.server.root for t in scenario.trials)
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == ("baseline" if root
                                                                                      else "restricted")
    for trial in scenario.trials:
        folder = dns_name(trial.key)
        objects = written[f"{folder}/server.yaml"] + written[f"{folder}/client.yaml"]
        assert {o["metadata"]["namespace"] for o in objects} == {ns}
        assert all(NAME.fullmatch(o["metadata"]["name"]) for o in objects)
        kinds = {}
        for o in objects:
            kinds.setdefault(o["kind"], []).append(o)
        pods = {pod["metadata"]["labels"][inventory.ROLE_LABEL]: pod for pod in kinds["Pod"]}
        (job,) = kinds["Job"]
        servers = {"server": trial.server, **({trial.neighbour.role: trial.neighbour.server} if trial.neighbour
                                              else {})}
        assert set(pods) == set(servers)
        for role, server in servers.items():
            pod = pods[role]
            uid = int(pod["metadata"]["annotations"]["lbaws-lab.org/uid"])
            container = check_locked_down(pod["spec"], uid, server.cap_add)
            assert (uid == 0) is server.root
            limits = server.limits
            # The entrypoint lowers nofile and nproc: there is no ulimit field to set them.
            assert container["command"][:7] == ["lbaws", "limits", "--nofile", str(limits.nofile),
                                                "--nproc", str(limits.nproc), "--"]
            assert container["image"] == inventory.image(server.image)
            assert pod["spec"]["shareProcessNamespace"] is server.init
            assert pod["spec"]["restartPolicy"] == "Never" and pod["spec"]["activeDeadlineSeconds"] > 0
            assert pod["metadata"]["annotations"]["lbaws-lab.org/pids-limit"] == str(limits.pids_limit)
            (service,) = [s for s in kinds["Service"] if s["metadata"]["name"] == pod["metadata"]["name"]]
            assert selects(service["spec"]["selector"], pod["metadata"]["labels"])
            assert service["spec"]["ports"][0]["targetPort"] == container["ports"][0]["containerPort"]
        if trial.neighbour is not None and trial.neighbour.same_uid:
            assert pods["server"]["spec"]["securityContext"]["runAsUser"] == \
                pods[trial.neighbour.role]["spec"]["securityContext"]["runAsUser"]
            assert pods[trial.neighbour.role]["spec"]["affinity"]["podAffinity"]
        client_labels = job["spec"]["template"]["metadata"]["labels"]
        assert client_labels[TRIAL_LABEL] == folder
        check_locked_down(job["spec"]["template"]["spec"], inventory.CLIENT_UID)
        ingress = [p for p in kinds["NetworkPolicy"] if "Ingress" in p["spec"]["policyTypes"]]
        (policy,) = ingress
        assert all(selects(policy["spec"]["podSelector"], pod["metadata"]["labels"]) for pod in pods.values())
        assert not selects(policy["spec"]["podSelector"], client_labels)
        (rule,) = policy["spec"]["ingress"]
        (source,) = rule["from"]
        assert selects(source["podSelector"], client_labels) and set(source) == {"podSelector"}
        assert rule["ports"] == [{"protocol": "TCP", "port": 8888}]
        script = job["spec"]["template"]["spec"]["containers"][0]["command"][2]
        assert subprocess.run(["sh", "-n", "-c", script]).returncode == 0
        for action in trial.actions:
            assert f"@@server/{action.key}" in script
        if any(isinstance(a, spec.Load) for a in trial.actions):
            assert "lbaws-client" in script
    assert subprocess.run(["sh", "-n", str(tmp_path / "k8s" / "run.sh")]).returncode == 0


def test_a_readers_file_travels_in_a_config_map(run_cli, tmp_path):
    emit(run_cli, tmp_path / "k8s", "fd-exhaustion", "--server", f"3d={SERVERS / 'webserver3d.py'}")
    objects = documents(tmp_path / "k8s")["3d/server.yaml"]
    for doc in objects:
        validate(doc)
    (files,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert files["data"] == {"webserver3d.py": (SERVERS / "webserver3d.py").read_text()}
    (pod,) = [o for o in objects if o["kind"] == "Pod"]
    container = pod["spec"]["containers"][0]
    assert container["command"] == ["lbaws", "limits", "--nofile", "256", "--nproc", "1024", "--",
                                    "python3", "/srv/lbaws-check/webserver3d.py"]
    assert {"name": "server-file", "mountPath": "/srv/lbaws-check", "readOnly": True} in container["volumeMounts"]


@pytest.mark.parametrize("broken, says", [
    (lambda pod: pod["spec"]["containers"][0].update(comand=["x"]), "comand"),
    (lambda pod: pod["spec"]["securityContext"].update(runAsUser="nobody"), "nobody"),
    (lambda pod: pod["spec"].pop("containers"), "containers"),
])
def test_the_validator_rejects_what_a_cluster_would(run_cli, tmp_path, broken, says):
    emit(run_cli, tmp_path / "k8s", "zombies")
    (pod, *_) = documents(tmp_path / "k8s")["3d/server.yaml"]
    validate(pod)
    broken(pod)
    with pytest.raises(kubernetes_validate.ValidationError, match=says):
        validate(pod)


@pytest.mark.parametrize("args, says", [
    (["zombies", "--emit", "helm", "DIR"], "--emit writes kubernetes manifests only, not 'helm'"),
    (["zombies", "--limits", "engine", "--emit", "kubernetes", "DIR"], "Kubernetes has no ulimit field"),
    (["zombies", "--keep", "--emit", "kubernetes", "DIR"], "--keep, --rounds, --repeat and --jobs go with a run"),
    (["zombies", "--emit", "kubernetes", "FULL"], "is not an empty folder"),
])
def test_bad_emit_arguments_are_one_line_and_exit_2(run_cli, tmp_path, args, says):
    (tmp_path / "FULL").mkdir()
    (tmp_path / "FULL" / "old.yaml").write_text("{}\n")
    args = [str(tmp_path / a) if a in ("DIR", "FULL") else a for a in args]
    result = run_cli(*args, env=NO_ENGINE)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.splitlines()) == 1 and says in result.stderr
    assert not (tmp_path / "DIR").exists()


def test_all_writes_a_folder_per_scenario(run_cli, tmp_path):
    emit(run_cli, tmp_path / "k8s", "--all")
    assert sorted(p.name for p in (tmp_path / "k8s").iterdir()) == sorted(catalog.names())
