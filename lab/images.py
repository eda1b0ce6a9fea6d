"""Build the lab's images: `python -m lab.images build`, or ensure_images() from the scenario runner.

The names and roles of the images are lab.inventory's; this module only makes them exist.
"""
import contextlib
import fcntl
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

from lab import base, build, cli, debs, inventory, wheelhouse
from lab.build import ENGINE_ERRORS
from lab.inventory import (APPS, BENCH_APP, BENCH_IMAGE, CLIENT_IMAGE, CLIENT_UID, RUNTIME_IMAGE, SERVER_IMAGE,
                           SERVER_UID, WORKBENCH_APP, WORKBENCH_IMAGE, WORKBENCH_UID, LabError, Say, connect,
                           quiet)
from lab.paths import CACHE, ROOT

JOBS = int(os.environ.get("LBAWS_BUILD_JOBS", "3"))
# Two processes started together (two scenario runs, a test session and `make images`) would
# otherwise build into the same wheelhouse and tags at once.
LOCK = CACHE / "images.lock"
# What the workbench image adds to /usr/local/bin: the lab's client3.py.
WORKBENCH_BIN = build.DOCKERFILES / "workbench"
# What the bench image adds to /usr/local/bin: the launcher that serves an app with wsgiref.simple_server.
BENCH_BIN = build.DOCKERFILES / "bench"


def specs(base_image: str, deps: dict, client_debs, bench_wheels) -> list[build.Spec]:
    """Every image in build order; each one's parent comes earlier (or is the base).

    An input not fetched (None, or a role missing from deps) is only fit for the specs that are not built.
    """
    apps = str(ROOT / "apps")
    images = [
        build.Spec(RUNTIME_IMAGE, "runtime.Dockerfile", base_image,
                   {"BASE": base_image, "LBAWS_UID": str(SERVER_UID)}),
        build.Spec(SERVER_IMAGE, "server.Dockerfile", RUNTIME_IMAGE, {"RUNTIME": RUNTIME_IMAGE},
                   {"wheels": str(wheelhouse.OWN)}),
    ]
    for app in APPS:
        files = {"root/app": apps}
        if app.framework:
            files["root/opt/lbaws-wheels"] = str(deps.get(app.role))
        images.append(build.Spec(app.image, "app.Dockerfile", SERVER_IMAGE, {"SERVER": SERVER_IMAGE}, files))
    images.append(build.Spec(CLIENT_IMAGE, "client.Dockerfile", RUNTIME_IMAGE,
                             {"RUNTIME": RUNTIME_IMAGE, "CLIENT_UID": str(CLIENT_UID)},
                             {"debs": str(client_debs), "wheels": str(wheelhouse.OWN)}))
    images.append(build.Spec(WORKBENCH_IMAGE, "workbench.Dockerfile", WORKBENCH_APP.image,
                             {"APP": WORKBENCH_APP.image, "WORKBENCH_UID": str(WORKBENCH_UID)},
                             {"root/usr/local/bin": str(WORKBENCH_BIN)}))
    images.append(build.Spec(BENCH_IMAGE, "bench.Dockerfile", BENCH_APP.image, {"APP": BENCH_APP.image},
                             {"root/opt/lbaws-bench-wheels": str(bench_wheels), "root/usr/local/bin": str(BENCH_BIN)}))
    return images


def ensure_images(say: Say = quiet, client=None, roles=None) -> list[str]:
    """Build whatever is missing or stale and return the names of the lab images made current.

    roles: the image roles (lab.inventory.IMAGES) a run needs, which come with their parents, so a first
    run builds only what it starts (a scenario: its servers' images and the client); None for all.
    say hears only work done (downloads, builds, their steps), one call at a time: a warm check is
    silent. Raises LabError (EngineMissing when no engine answers) on any failure.
    """
    return [outcome.name for outcome in refresh(say, client, roles)]


def refresh(say: Say = quiet, client=None, roles=None) -> list[build.Outcome]:
    """ensure_images(), telling which images were built and which were current."""
    say = _one_at_a_time(say)
    with contextlib.ExitStack() as stack:
        if client is None:
            client = stack.enter_context(contextlib.closing(connect()))
        try:
            CACHE.mkdir(parents=True, exist_ok=True)
            lock = stack.enter_context(open(LOCK, "a"))
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            return _refresh(client, say, None if roles is None else needed(roles))
        except (OSError, *ENGINE_ERRORS) as exc:
            raise LabError(f"building the lab's images failed: {type(exc).__name__}: {exc}") from exc


def needed(roles) -> set[str]:
    """The names of the images that roles' images need: each one and the parents it builds on."""
    parents = {spec.name: spec.parent for spec in specs("base", {}, None, None)}
    names, todo = set(), [inventory.image(role) for role in roles]
    while todo:
        name = todo.pop()
        if name in parents and name not in names:
            names.add(name)
            todo.append(parents[name])
    return names


def _refresh(client, say, names):
    wanted = (lambda name: True) if names is None else names.__contains__
    # Only the downloads the wanted images carry: a first scenario run waits for no bench wheels. They
    # go on while the base is made (mmdebstrap waits on the mirror and dpkg, the wheel build on the CPU).
    frameworks = any(wanted(app.image) for app in APPS if app.framework)
    with ThreadPoolExecutor(max_workers=4) as pool:
        fetches = {"deps": pool.submit(wheelhouse.ensure_deps, say) if frameworks else None,
                   "own": pool.submit(wheelhouse.ensure_own, say),
                   "debs": pool.submit(debs.ensure_debs, say) if wanted(CLIENT_IMAGE) else None,
                   "bench": pool.submit(wheelhouse.ensure_bench, say) if wanted(BENCH_IMAGE) else None}
        base_image = base.ensure_base(client, say)
        fetched = {key: future.result() if future else None for key, future in fetches.items()}
    todo = [spec for spec in specs(base_image, fetched["deps"] or {}, fetched["debs"], fetched["bench"])
            if wanted(spec.name)]
    # runtime is everyone's parent; the rest only share the engine, so each round builds side by side
    # (each container commit on the classic builder waits mostly on the storage driver).
    outcomes = [build.ensure(client, spec, say) for spec in todo[:1]]
    failures = []
    for group in _rounds(todo[1:]):
        with ThreadPoolExecutor(max_workers=JOBS) as pool:
            futures = [pool.submit(_ensure_with_own_client, spec, say) for spec in group]
            wait(futures)
        failures += [future.exception() for future in futures if future.exception()]
        outcomes += [future.result() for future in futures if not future.exception()]
        if failures:
            break  # the next round builds on this one's images, maybe on the one that failed
    # Even when a leaf failed: the images its siblings replaced are garbage all the same.
    build.drop_replaced(client, [o.replaced for o in reversed(outcomes) if o.replaced])
    if failures:
        first, *others = failures
        for other in others:
            first.add_note(f"also: {other}")
        raise first
    order = {spec.name: i for i, spec in enumerate(todo)}
    return sorted(outcomes, key=lambda o: order[o.name])


def _rounds(todo):
    """todo in rounds: a spec whose parent is in todo comes a round after it (the workbench after app-flask)."""
    rounds, round_of = [], {}
    for spec in todo:  # parents come earlier (specs' order)
        number = round_of[spec.parent] + 1 if spec.parent in round_of else 0
        round_of[spec.name] = number
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(spec)
    return rounds


def _ensure_with_own_client(spec, say):
    # The SDK's client is a requests session, which is not safe to share between threads.
    with contextlib.closing(connect()) as client:
        return build.ensure(client, spec, say)


def _one_at_a_time(say):
    lock = threading.Lock()

    def locked(line):
        with lock:
            say(line)
    return locked


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["build"]:
        print("usage: python -m lab.images build", file=sys.stderr)
        return 2
    return cli.run(_build)


def _build():
    started = time.monotonic()
    outcomes = refresh(cli.say)
    built = sum(o.built for o in outcomes)
    cli.say(f"images: {len(outcomes)} images ready ({built} built, {len(outcomes) - built} current) "
            f"in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
