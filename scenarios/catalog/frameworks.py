"""Part 2: one WSGI server, unchanged, serves Flask, Pyramid, Django and a bare WSGI app."""
from lab.inventory import APPS
from scenarios.spec import Curl, Scenario, ServerCode, ServerSpec, Trial, Verdict


def judge(obs) -> Verdict:
    bodies, digests, off_base = {}, set(), []
    for app in APPS:
        record = obs[app.role]
        bodies[app.role] = record.curl().body
        code = record.server_code()
        digests.add(code.digest)
        if not code.contains_server_layers:
            off_base.append(code.image)
    answered = all(bodies[app.role] == app.greeting for app in APPS)
    same_code = len(digests) == 1
    digest = next(iter(digests)) if same_code else sorted(digests)
    pages = "; ".join(f"{app.role}: {bodies[app.role]!r}" for app in APPS)
    layered = not off_base
    code = (f"The lbaws package has the same sha256 in all four images ({str(digest)[:12]}...)" if same_code
            else f"The lbaws package differs between images: {digest}")
    layers = ("each app image is built on the server image's layers" if layered
              else f"these app images are not built on the current server image: {', '.join(off_base)}")
    return Verdict(
        reproduced=answered and same_code and layered,
        observed=f"{pages}. {code}, and {layers}.",
        numbers={"bodies": bodies, "lbaws_digest": digest, "built_on_server_layers": layered,
                 "not_on_server_layers": off_base},
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
