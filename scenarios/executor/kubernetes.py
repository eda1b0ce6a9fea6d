"""A scenario as Kubernetes objects (`lbaws scenario NAME --emit kubernetes DIR`), from the same catalog data.

Per trial: the server's Pod (and its neighbour's), a Service in front of it, a NetworkPolicy that lets
only the trial's client reach it, and the client's Job; all of one run in one Namespace. Kubernetes has
no per-container ulimit, so nofile and nproc come from the entrypoint (`lbaws limits`, lbaws.rlimits);
the pids limit is the node's (kubelet podPidsLimit), so the Pod only carries it as an annotation.
docs/kubernetes.md says what maps to what, and what a cluster does differently from Docker.
"""
from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from lab import inventory, lockdown, runs
from lab.inventory import PROJECT, PROJECT_LABEL, ROLE_LABEL, RUN_LABEL, SCENARIO_LABEL, STAGE_LABEL
from scenarios.vocabulary import spec
from scenarios.executor import actions
from scenarios.executor.containers import PORT, SERVER_FILES, pid1_argv, server_argv, server_uid

# The Kubernetes release whose OpenAPI schemas tests/scenarios/test_kubernetes.py checks every manifest
# against, offline (kubernetes-validate ships them); the fields used here are all GA well before it.
KUBERNETES_RELEASE = "1.35.0"
TRIAL_LABEL = "org.lbaws-lab.trial"
ANNOTATION = "lbaws-lab.org/"
# The lab's server Pods may run as root only for pids-cgroup's root trial; every other namespace can
# enforce the restricted Pod Security Standard, which all the rest of these objects meet.
RESTRICTED, BASELINE = "restricted", "baseline"
# The one place a locked-down container may write, as lab.lockdown's tmpfs.
TMP_VOLUME = {"name": "tmp", "emptyDir": {"medium": "Memory", "sizeLimit": "16Mi"}}
# No trial samples longer than this (the runner's trial bound): nothing of a run lives on forever.
POD_DEADLINE_S = 600
DNS_PORT = 53
# Server-side actions the runner takes inside the server's container (probes, kill -9, docker stop): the
# client's Job cannot, so it only marks where they come, and run.sh names the kubectl exec of each.
SERVER_SIDE = (spec.Settle, spec.KillZombies, spec.KillChild, spec.Snapshot, spec.ServerCode, spec.Stop)
NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def quantity(docker_size: str) -> str:
    """Docker's "1g", "512m" as Kubernetes's "1Gi", "512Mi"."""
    number, unit = re.fullmatch(r"(\d+)([kmg]?)", docker_size.lower()).groups()
    return number + {"k": "Ki", "m": "Mi", "g": "Gi", "": ""}[unit]


def dns_name(text: str) -> str:
    """A trial key as a DNS-1123 label (Pod, Service and Job names)."""
    name = re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-")
    if not NAME.fullmatch(name):
        raise ValueError(f"{text!r} makes no Kubernetes name")
    return name


class Manifests:
    """Every object of one scenario run, in the order they are applied."""

    def __init__(self, scenario: spec.Scenario, run_id: str | None = None, scale: float = 1.0):
        self.scenario = scenario
        self.run_id = run_id or runs.new_run_id(scenario.name)
        self.namespace = dns_name(f"lbaws-{self.run_id}")
        self.scale = scale

    def labels(self, trial: spec.Trial, role: str) -> dict:
        return {PROJECT_LABEL: PROJECT, RUN_LABEL: self.run_id, SCENARIO_LABEL: self.scenario.name,
                TRIAL_LABEL: dns_name(trial.key), ROLE_LABEL: role}

    def meta(self, name: str, labels: dict, annotations: dict | None = None) -> dict:
        out = {"name": name, "namespace": self.namespace, "labels": labels}
        if annotations:
            out["annotations"] = {ANNOTATION + key: str(value) for key, value in annotations.items()}
        return out

    def namespace_object(self) -> dict:
        root = any(trial.server.root or (trial.neighbour and trial.neighbour.server.root)
                   for trial in self.scenario.trials)
        level = BASELINE if root else RESTRICTED
        return {"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": self.namespace,
                             "labels": {PROJECT_LABEL: PROJECT, RUN_LABEL: self.run_id,
                                        SCENARIO_LABEL: self.scenario.name,
                                        "pod-security.kubernetes.io/enforce": level,
                                        "pod-security.kubernetes.io/warn": RESTRICTED}}}

    def default_deny(self) -> dict:
        """Nothing in the namespace talks to anything, but what a trial's own policies allow."""
        return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                "metadata": {"name": "default-deny", "namespace": self.namespace},
                "spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}}

    # One trial's objects.

    def servers(self, trial: spec.Trial) -> list:
        """[(ServerSpec, name, UID, role, actions)] of the trial, in the order the runner starts and plays
        them: the neighbour first (nproc-shared-uid), then the trial's own server."""
        alias = dns_name(f"server-{trial.key}")
        uid = server_uid()
        found = []
        if trial.neighbour is not None:
            neighbour = trial.neighbour
            own = uid if neighbour.same_uid else next(u for u in iter(server_uid, None) if u != uid)
            found.append((neighbour.server, f"{alias}-{dns_name(neighbour.role)}", own, dns_name(neighbour.role),
                          neighbour.actions))
        found.append((trial.server, alias, uid, "server", trial.actions))
        return found

    def trial_objects(self, trial: spec.Trial) -> tuple:
        """(what starts the server side, the client's Job, the server Pods' names): applied apart, the
        server side first."""
        servers = self.servers(trial)
        alias = servers[-1][1]
        server_side = []
        for server, name, uid, role, _ in servers:
            beside = alias if role != "server" and trial.neighbour.same_uid else None
            server_side += self.server_objects(trial, server, name, uid, role, beside=beside)
            server_side.append(self.service(trial, name, role))
        server_side += self.policies(trial, alias, [role for *_, role, _ in servers])
        return server_side, self.client_job(trial, servers), [name for _, name, *_ in servers]

    def server_objects(self, trial: spec.Trial, server: spec.ServerSpec, name: str, uid: int, role: str,
                       beside: str | None = None) -> list:
        sleep = spec.seconds(server.sleep, self.scale) if server.sleep is not None else None
        objects, mounts, volumes = [], [{"name": "tmp", "mountPath": "/tmp"}], [TMP_VOLUME]
        target = ""
        if server.file:
            source = Path(server.file)
            target = f"{SERVER_FILES}/{source.name}"
            files = f"{name}-file"
            objects.append({"apiVersion": "v1", "kind": "ConfigMap",
                            "metadata": self.meta(files, self.labels(trial, role), {"source": source}),
                            "data": {source.name: source.read_text()}})
            volumes = [*volumes, {"name": "server-file", "configMap": {"name": files, "defaultMode": 0o444}}]
            mounts = [*mounts, {"name": "server-file", "mountPath": SERVER_FILES, "readOnly": True}]
        command = pid1_argv(server, server_argv(server, sleep, target), spec.LimitsFrom.ENTRYPOINT)
        limits = server.limits
        labels = {**self.labels(trial, role), STAGE_LABEL: server.stage}
        pod_spec = {
            # The text's server names itself with getfqdn(); Django accepts that name as a Host.
            "hostname": name,
            # The engine's init (docker-init) has one counterpart here: the pause container as PID 1 of a
            # shared process namespace, which reaps orphans as tini does. Otherwise the server stays PID 1.
            "shareProcessNamespace": server.init,
            "restartPolicy": "Never",  # a server that dies is what some lessons show
            "activeDeadlineSeconds": POD_DEADLINE_S,
            "terminationGracePeriodSeconds": spec.Stop().timeout,
            "automountServiceAccountToken": False,
            "enableServiceLinks": False,
            "securityContext": self.pod_security(0 if server.root else uid),
            "containers": [{
                "name": "server",
                "image": inventory.image(server.image),
                "imagePullPolicy": "IfNotPresent",
                "command": command,
                "workingDir": inventory.APP_DIR,
                "env": [{"name": "PYTHONUNBUFFERED", "value": "1"}, {"name": "LBAWS_ALLOWED_HOSTS", "value": name},
                        {"name": "PYTHONPATH", "value": inventory.APP_DIR}],
                "ports": [{"name": "http", "containerPort": PORT, "protocol": "TCP"}],
                # ss inside the container, as the runner's probe: a TCP probe would connect, and 3d would
                # fork a child for it. A startup probe stops once it succeeded, so no probe takes nproc slots.
                "startupProbe": {"exec": {"command": ["sh", "-c", f"ss -Hltn | grep -q ':{PORT} '"]},
                                 "periodSeconds": 1, "failureThreshold": 60},
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                              "limits": {"memory": quantity(limits.memory)}},
                "securityContext": self.container_security(server.cap_add, root=server.root),
                "volumeMounts": mounts,
            }],
            "volumes": volumes,
        }
        if beside:
            # One RLIMIT_NPROC count is per UID per node: sharing it needs the same node.
            pod_spec["affinity"] = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{
                "labelSelector": {"matchLabels": {RUN_LABEL: self.run_id, TRIAL_LABEL: dns_name(trial.key),
                                                  ROLE_LABEL: "server"}},
                "topologyKey": "kubernetes.io/hostname"}]}}
        annotations = {"nofile": limits.nofile, "nproc": limits.nproc, "limits-set-by": "entrypoint",
                       # No per-Pod field: the node's kubelet podPidsLimit is the safety net (docs/kubernetes.md).
                       "pids-limit": limits.pids_limit, "uid": 0 if server.root else uid,
                       **({"capabilities": " ".join(server.cap_add)} if server.cap_add else {})}
        objects.append({"apiVersion": "v1", "kind": "Pod", "metadata": self.meta(name, labels, annotations),
                        "spec": pod_spec})
        return objects

    @staticmethod
    def pod_security(uid: int) -> dict:
        return {"runAsNonRoot": uid != 0, "runAsUser": uid, "runAsGroup": uid,
                "seccompProfile": {"type": "RuntimeDefault"}}

    @staticmethod
    def container_security(cap_add=(), root: bool = False) -> dict:
        """lab.lockdown's, in Kubernetes's words: no capability, no privilege gained, read-only root."""
        capabilities = {"drop": list(lockdown.CAP_DROP)}
        if cap_add:
            capabilities["add"] = list(cap_add)
        return {"allowPrivilegeEscalation": False, "capabilities": capabilities, "readOnlyRootFilesystem": True,
                "runAsNonRoot": not root, "privileged": False, "seccompProfile": {"type": "RuntimeDefault"}}

    def service(self, trial: spec.Trial, name: str, role: str) -> dict:
        """The client reaches the server by the same name as on the run's Docker network."""
        return {"apiVersion": "v1", "kind": "Service",
                "metadata": self.meta(name, self.labels(trial, role)),
                "spec": {"selector": {RUN_LABEL: self.run_id, TRIAL_LABEL: dns_name(trial.key), ROLE_LABEL: role},
                         "ports": [{"name": "http", "port": PORT, "targetPort": PORT, "protocol": "TCP"}]}}

    def policies(self, trial: spec.Trial, alias: str, roles: list) -> list:
        """Only this trial's client reaches this trial's server, on its port; the client reaches only that
        and the cluster's DNS; the server reaches nothing (the namespace's default-deny)."""
        key = dns_name(trial.key)
        client = {RUN_LABEL: self.run_id, TRIAL_LABEL: key, ROLE_LABEL: "client"}
        server = {"matchLabels": {RUN_LABEL: self.run_id, TRIAL_LABEL: key},
                  "matchExpressions": [{"key": ROLE_LABEL, "operator": "In", "values": roles}]}
        port = [{"protocol": "TCP", "port": PORT}]
        dns = {"to": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                       "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}}}],
               "ports": [{"protocol": "UDP", "port": DNS_PORT}, {"protocol": "TCP", "port": DNS_PORT}]}
        return [
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": self.meta(f"{alias}-from-client", self.labels(trial, "server")),
             "spec": {"podSelector": server, "policyTypes": ["Ingress"],
                      "ingress": [{"from": [{"podSelector": {"matchLabels": client}}], "ports": port}]}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": self.meta(f"client-{key}-to-server", self.labels(trial, "client")),
             "spec": {"podSelector": {"matchLabels": client}, "policyTypes": ["Egress"],
                      "egress": [{"to": [{"podSelector": server}], "ports": port}, dns]}},
        ]

    def client_script(self, servers: list) -> tuple:
        """(the shell script of the trial's client-side actions in order, its bound in seconds). Each action
        starts with a line `@@ROLE/KEY`, so its output is found in the Job's log as the runner's probes split
        theirs."""
        lines, bound, background = ["set -u"], 30.0, []
        for _, alias, _, role, played in servers:
            bound, background = self.play(lines, bound, background, alias, role, played)
        if background:
            lines.append("wait")
        return "\n".join(lines) + "\n", round(bound)

    def play(self, lines: list, bound: float, background: list, alias: str, role: str, played: tuple) -> tuple:
        url = lambda path: f"http://{alias}:{PORT}{path}"  # noqa: E731
        for action in played:
            lines.append(f"echo @@{shlex.quote(f'{role}/{action.key}')}")
            if isinstance(action, spec.Load):
                lines.append(shlex.join(actions.load_command(action, url(action.path), self.scale)))
                bound += spec.seconds(action.deadline, self.scale) + 15
            elif isinstance(action, spec.SteadyLoad):
                lines.append(shlex.join(actions.steady_command(action, url(action.path))) + " &")
                background.append(action.key)
                bound += action.seconds + 10
            elif isinstance(action, spec.Curl):
                max_time = spec.seconds(action.max_time, self.scale)
                lines.append(actions.curls_script(action.count, max_time, action.gap, url(action.path),
                                                  action.silent_first, alias).strip())
                bound += max_time + action.count * action.gap + action.silent_first + 10
            elif isinstance(action, spec.Netcat):
                lines.append(f"printf {shlex.quote(action.payload)} | nc -w {action.wait:g} {alias} {PORT}")
                bound += action.wait + 10
            elif isinstance(action, spec.Pause):
                seconds = spec.seconds(action.seconds, self.scale)
                lines.append(f"sleep {seconds:g}")
                bound += seconds
            elif isinstance(action, SERVER_SIDE):
                # Taken in the server's container by whoever runs the trial (run.sh names the kubectl exec).
                lines.append(f"echo {shlex.quote(f'{type(action).__name__}: in the server container, not here')}")
            else:
                raise TypeError(f"{type(action).__name__} has no Kubernetes form yet")
        return bound, background

    def client_job(self, trial: spec.Trial, servers: list) -> dict:
        script, bound = self.client_script(servers)
        name = f"client-{dns_name(trial.key)}"
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": self.meta(name, self.labels(trial, "client")),
                "spec": {"backoffLimit": 0, "activeDeadlineSeconds": bound,
                         "template": {
                             "metadata": {"labels": self.labels(trial, "client")},
                             "spec": {
                                 "restartPolicy": "Never",
                                 "automountServiceAccountToken": False,
                                 "enableServiceLinks": False,
                                 "securityContext": self.pod_security(inventory.CLIENT_UID),
                                 "containers": [{
                                     "name": "client",
                                     "image": inventory.CLIENT_IMAGE,
                                     "imagePullPolicy": "IfNotPresent",
                                     "command": ["/bin/sh", "-c", script],
                                     "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                                   "limits": {"memory": "1Gi"}},
                                     "securityContext": self.container_security(),
                                     "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
                                 }],
                                 "volumes": [TMP_VOLUME],
                             }}}}

    def run_script(self, trials: list) -> str:
        """run.sh: each trial in the order the runner plays it, in kubectl. Written, never run here: there
        is no cluster. [(trial, its folder, its server Pods' names)]"""
        ns = shlex.quote(self.namespace)
        kubectl = f"kubectl -n {ns}"
        # The server's own limits, not those of the process exec'd to read them (which gets the runtime's
        # defaults): the oldest process that is not the pause container.
        limits = "cat /proc/$(pgrep -o -v -x pause)/limits"
        lines = ["#!/bin/sh", f"# {self.scenario.name}, run {self.run_id}: every trial in the order the runner "
                 "plays it.", "# Written by `lbaws scenario --emit kubernetes`; see docs/kubernetes.md.",
                 "set -eu", 'cd "$(dirname "$0")"', "kubectl apply -f namespace.yaml"]
        for trial, folder, names in trials:
            job = f"job/client-{dns_name(trial.key)}"
            lines += [f"# trial {trial.key}", f"kubectl apply -f {folder}/server.yaml"]
            for name in names:
                lines += [f"{kubectl} wait --for=condition=Ready pod/{name} --timeout=90s",
                          f"{kubectl} exec {name} -- sh -c {shlex.quote(limits)}"]
            lines += [f"kubectl apply -f {folder}/client.yaml",
                      f"{kubectl} wait --for=condition=complete --timeout=600s {job} || true",
                      f"{kubectl} logs {job}"]
            for name in names:
                lines += [f"{kubectl} exec {name} -- ps -eo pid,ppid,user,stat,args || true",
                          f"{kubectl} logs pod/{name}"]
        lines += [f"# remove the run: kubectl delete namespace {ns}"]
        return "\n".join(lines) + "\n"

    def write(self, folder: Path) -> list:
        """Write namespace.yaml, TRIAL/server.yaml and TRIAL/client.yaml per trial, and run.sh; the paths."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        written = [dump(folder / "namespace.yaml", [self.namespace_object(), self.default_deny()])]
        trials = []
        for trial in self.scenario.trials:
            server_side, job, names = self.trial_objects(trial)
            sub = folder / dns_name(trial.key)
            sub.mkdir(exist_ok=True)
            written += [dump(sub / "server.yaml", server_side), dump(sub / "client.yaml", [job])]
            trials.append((trial, sub.name, names))
        script = folder / "run.sh"
        script.write_text(self.run_script(trials))
        script.chmod(0o755)
        return [*written, script]


class _Dumper(yaml.SafeDumper):
    """Scripts as literal blocks, so the client's shell script reads as it runs."""


def _string(dumper, text):
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)


_Dumper.add_representer(str, _string)


def dump(path: Path, documents: list) -> Path:
    path.write_text(yaml.dump_all(documents, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=120))
    return path


def emit(scenario: spec.Scenario, folder: Path, scale: float = 1.0) -> list:
    return Manifests(scenario, scale=scale).write(folder)
