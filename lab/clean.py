"""`make clean`: remove every container, network, volume and image the lab made, and nothing else.

Everything the lab makes carries the project label: images inherit it from the runtime image (or the
imported base), containers inherit it from their image, Compose networks get it from compose.yaml.
"""
import sys

import docker.errors

from lab import cli
from lab.build import ENGINE_ERRORS
from lab.inventory import PROJECT, PROJECT_LABEL, LabError, Say, connect, label_filter, quiet


def _remove(say, kind, name, remove, silent=False):
    try:
        remove()
    except docker.errors.NotFound:
        return False
    except docker.errors.APIError as exc:
        if not silent:
            say(f"clean: could not remove {kind} {name}: {exc.explanation or exc}")
        return False
    say(f"clean: removed {kind} {name}")
    return True


def clean(client, label: str = label_filter(PROJECT_LABEL, PROJECT), say: Say = quiet) -> int:
    """Remove what carries label (KEY=VALUE); returns how many objects went."""
    try:
        return _clean(client, label, say)
    except ENGINE_ERRORS as exc:
        raise LabError(f"cleaning up what carries {label} failed: {exc}") from exc


def _clean(client, label, say):
    removed = 0
    only = {"label": label}
    for container in client.containers.list(all=True, filters=only):
        removed += _remove(say, "container", container.name, lambda: container.remove(force=True, v=True))
    for network in client.networks.list(filters=only):
        removed += _remove(say, "network", network.name, network.remove)
    for volume in client.volumes.list(filters=only):
        removed += _remove(say, "volume", volume.name, volume.remove)
    # Newest first, so a child goes before the image it was built on; a second pass catches what
    # a parent/child order by creation time got wrong.
    for last_pass in (False, True):
        images = sorted(client.images.list(all=True, filters=only), key=lambda i: i.attrs["Created"],
                        reverse=True)
        for image in images:
            name = ", ".join(image.tags) or image.short_id
            removed += _remove(say, "image", name, lambda: client.images.remove(image.id, force=True),
                               silent=not last_pass)
    return removed


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv:
        print("usage: python -m lab.clean", file=sys.stderr)
        return 2
    return cli.run(clean_all)


def clean_all():
    if not clean(connect(), say=cli.say):
        cli.say("clean: nothing of the lab's left to remove")
    return 0


if __name__ == "__main__":
    sys.exit(main())
