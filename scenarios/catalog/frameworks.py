"""Part 2: one WSGI server, unchanged, serves Flask, Pyramid, Django and a bare WSGI app."""
from lab.inventory import APPS
from scenarios.spec import Curl, Scenario, ServerCode, ServerSpec, Trial
from scenarios.verdict import Judgment


def judge(obs) -> Judgment:
    bodies, types, digests, off_base, readers = {}, {}, set(), [], []
    for app in APPS:
        record = obs[app.role]
        curl = record.curl()
        bodies[app.role], types[app.role] = curl.body, curl.content_type
        if record.server_file:
            readers.append(app.role)  # the images' lbaws says nothing about a reader's own server
            continue
        code = record.server_code()
        digests.add(code.digest)
        if not code.contains_server_layers:
            off_base.append(code.image)
    answered = all(bodies[app.role] == app.greeting for app in APPS)
    # Each app sends Content-Type: text/plain; a server that drops the app's headers loses it.
    headers_kept = all(types[app.role].startswith("text/plain") for app in APPS)
    same_code = len(digests) <= 1
    digest = next(iter(digests), "") if same_code else sorted(digests)
    pages = "; ".join(f"{app.role}: {bodies[app.role]!r} ({types[app.role] or 'no Content-Type'})" for app in APPS)
    layered = not off_base
    if readers:
        code = f"Your file served {', '.join(readers)}"
    else:
        code = (f"The lbaws package has the same sha256 in all four images ({str(digest)[:12]}...)" if same_code
                else f"The lbaws package differs between images: {digest}")
    layers = ("each app image is built on the server image's layers" if layered
              else f"these app images are not built on the current server image: {', '.join(off_base)}")
    headers = "every app's Content-Type reached curl" if headers_kept else "some app's headers did not reach curl"
    return Judgment.of(
        reproduced=answered and headers_kept and same_code and layered,
        observed=f"{pages}. {code}, {headers}, and {layers}.",
        numbers={"bodies": bodies, "content_types": types, "lbaws_digest": digest, "built_on_server_layers": layered,
                 "not_on_server_layers": off_base, "headers_kept": headers_kept},
    )


SCENARIO = Scenario(
    name="frameworks",
    section="Part 2: webserver2.py serving flaskapp, pyramidapp and djangoapp",
    summary="the same server code (same image layer) serves Flask, Pyramid, Django and bare WSGI unchanged",
    prediction=("The WSGI server works with Pyramid, Flask and Django applications without a single change to "
                "the server: each framework's Hello world page comes back through the same code."),
    why=("WSGI is the contract between them: the server calls application(environ, start_response) and "
         "writes back what start_response and the returned iterable give it. Any framework that exposes a WSGI "
         "callable plugs in without the server knowing which it is."),
    trials=tuple(
        Trial(app.role, ServerSpec(stage="2", app=app.spec, image=app.role), (Curl(count=1, max_time=10), ServerCode()))
        for app in APPS
    ),
    judge=judge,
)
