"""Build the lab's images: `python -m lab.images build`. The scenarios import ensure_images() and
the image names from here."""
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from lab import base, build, wheelhouse
from lab.common import ROOT, TAG, docker_client, say

RUNTIME_IMAGE = f"lbaws-lab/runtime:{TAG}"
SERVER_IMAGE = f"lbaws-lab/server:{TAG}"
CLIENT_IMAGE = f"lbaws-lab/client:{TAG}"
APP_IMAGES = {app: f"lbaws-lab/app-{app}:{TAG}" for app in ("flask", "pyramid", "django", "wsgi")}
SERVER_UID = 18888
CLIENT_UID = 18889
JOBS = int(os.environ.get("LBAWS_BUILD_JOBS", "3"))


def specs(base_image, deps):
    """Every image in build order; each one's parent comes earlier (or is the base)."""
    apps = str(ROOT / "apps")
    images = [
        build.Spec(RUNTIME_IMAGE, "runtime.Dockerfile", base_image,
                   {"BASE": base_image, "LBAWS_UID": str(SERVER_UID)}),
        build.Spec(SERVER_IMAGE, "server.Dockerfile", RUNTIME_IMAGE, {"RUNTIME": RUNTIME_IMAGE},
                   {"wheels": str(wheelhouse.OWN)}),
    ]
    for app, image in APP_IMAGES.items():
        files = {"root/app": apps}
        if app in deps:
            files["root/opt/lbaws-wheels"] = str(deps[app])
        images.append(build.Spec(image, "app.Dockerfile", SERVER_IMAGE, {"SERVER": SERVER_IMAGE}, files))
    images.append(build.Spec(CLIENT_IMAGE, "client.Dockerfile", SERVER_IMAGE,
                             {"SERVER": SERVER_IMAGE, "CLIENT_UID": str(CLIENT_UID)}))
    return images


def ensure_images(client=None):
    """Build whatever is missing or stale; return the names of all lab images."""
    client = client or docker_client()
    base_image = base.ensure_base(client)
    deps = wheelhouse.ensure_deps()
    wheelhouse.ensure_own()
    todo = specs(base_image, deps)
    # runtime and server are everyone's parents; the leaves only share the engine, so they build
    # side by side (each container commit on the classic builder waits mostly on the storage driver).
    replaced = [build.ensure(client, spec, base.find_image) for spec in todo[:2]]
    with ThreadPoolExecutor(max_workers=JOBS) as pool:
        replaced += pool.map(lambda spec: build.ensure(docker_client(), spec, base.find_image), todo[2:])
    build.drop_replaced(client, [image_id for image_id in reversed(replaced) if image_id])
    return [spec.name for spec in todo]


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv != ["build"]:
        print("usage: python -m lab.images build", file=sys.stderr)
        return 2
    started = time.monotonic()
    names = ensure_images()
    say(f"images: {len(names)} images ready in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
