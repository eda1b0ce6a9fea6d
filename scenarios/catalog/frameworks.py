"""Part 2: one WSGI server, unchanged, serves Flask, Pyramid, Django and a bare WSGI app.

What the lesson reads is the app's answer coming through: its body and its Content-Type header.
The server's own status line, HTTP version, Content-Length or extra headers are its own business.
Each framework's trial is judged on its own, so one app that fails does not hide the others.
"""
from lab.inventory import APPS
from scenarios.catalog.lessons import APP_FAILS, DIES, DROPS_HEADERS, NOT_APPS_BODY
from scenarios.judging.phrases import said, who
from scenarios.vocabulary.results import MissingResult
from scenarios.vocabulary.spec import Curl, Scenario, ServerCode, ServerSpec, Trial
from scenarios.vocabulary.verdict import Judgment


def app_reading(app, record) -> tuple:
    """(the curl or None, the lesson this app's trial shows or None, how it went when it went wrong)."""
    try:
        curl = record.curl()
    except MissingResult as missing:
        ended = (f"the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
                 if record.died else str(missing))
        return None, DIES.key if record.died else APP_FAILS.key, f"no curl result: {ended}"
    if curl.status is None:
        ended = (f"; the server exited with status {record.exit_code} ({record.error_line() or 'no traceback'})"
                 if record.died else "")
        return curl, APP_FAILS.key, f"curl got no response (exit {curl.exit}){ended}"
    if curl.body != app.greeting:
        # The app's own error page (a 404, a 500) means the environ misled it; a 2xx with another body, that
        # the server did not send what the app returned (str() of bytes, a fixed body of its own).
        key = APP_FAILS.key if curl.status >= 300 else NOT_APPS_BODY.key
        return curl, key, f"{said(curl)}, not the app's {app.greeting!r}"
    if not curl.content_type.startswith("text/plain"):
        return curl, DROPS_HEADERS.key, f"{said(curl)} but no Content-Type text/plain, which the app sends"
    return curl, None, ""


def judge(obs) -> Judgment:
    bodies, types, digests, off_base, readers, lessons, wrong = {}, {}, set(), [], [], [], []
    for app in APPS:
        record = obs[app.role]
        curl, lesson, how = app_reading(app, record)
        bodies[app.role] = curl.body if curl else None
        types[app.role] = curl.content_type if curl else None
        if lesson:
            wrong.append(f"{app.role}: {how}")
            lessons += [lesson] if lesson not in lessons else []
        if record.server_file:
            readers.append(app.role)  # the images' lbaws says nothing about a reader's own server
            continue
        try:
            code = record.server_code()
        except MissingResult:
            off_base.append(f"{app.role} (its server code was not read)")
            continue
        digests.add(code.digest)
        if not code.contains_server_layers:
            off_base.append(code.image)
    answered = all(bodies[app.role] == app.greeting for app in APPS)
    # Each app sends Content-Type: text/plain; a server that drops the app's headers loses it.
    headers_kept = all((types[app.role] or "").startswith("text/plain") for app in APPS)
    same_code = len(digests) <= 1
    digest = next(iter(digests), "") if same_code else sorted(digests)
    layered = not off_base
    numbers = {"bodies": bodies, "content_types": types, "lbaws_digest": digest, "built_on_server_layers": layered,
               "not_on_server_layers": off_base, "headers_kept": headers_kept}
    if readers:
        return Judgment.of(not lessons, reader_observed(obs, readers, wrong), numbers, lessons)
    pages = "; ".join(f"{app.role}: {bodies[app.role]!r} ({types[app.role] or 'no Content-Type'})"
                      if bodies[app.role] is not None else f"{app.role}: no response" for app in APPS)
    code = (f"The lbaws package has the same sha256 in all four images ({str(digest)[:12]}...)" if same_code
            else f"The lbaws package differs between images: {digest}")
    layers = ("each app image is built on the server image's layers" if layered
              else f"these app images are not built on the current server image: {', '.join(off_base)}")
    headers = "every app's Content-Type reached curl" if headers_kept else "some app's headers did not reach curl"
    failed = f" ({'; '.join(wrong)})" if wrong and not answered else ""
    return Judgment.of(
        reproduced=answered and headers_kept and same_code and layered,
        observed=f"{pages}{failed}. {code}, {headers}, and {layers}.",
        numbers=numbers,
    )


def reader_observed(obs, readers, wrong) -> str:
    """The reader's server, app by app: what came back, and what did not come through."""
    record = obs[readers[0]]
    served = [app for app in APPS if not any(line.startswith(f"{app.role}:") for line in wrong)]
    told = f"{who(record)} served " + (", ".join(f"{app.role} ({app.greeting!r})" for app in served) or "no app")
    if served:
        told += (" with each app's own body and Content-Type, whatever its status line, HTTP version or "
                 "Content-Length")
    if wrong:
        told += "; " + "; ".join(wrong)
        if any("but no Content-Type" in line for line in wrong):
            told += ": some app's headers did not reach curl"
    return told + "."


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
    lessons=(APP_FAILS, NOT_APPS_BODY, DROPS_HEADERS, DIES),
)
