"""The text's lessons as data: each fault a reader's server can show, and what the text changes to fix it.

Scenarios list the ones their judge may name (Scenario.lessons); a judgment that differs names them by
key, and `lbaws check` prints the fault and the fix beside what the server did.
"""
from scenarios.vocabulary.spec import Lesson

KEEPS_COPY = Lesson(
    "keeps-copy", "the parent never closes its copy of the client socket",
    "the text's 3g (from 3d on) closes it right after fork(): client_connection.close() in the parent, so "
    "the child's close() is the last one and sends the FIN")
NEVER_WAITS = Lesson(
    "never-waits", "children are never waited for, so each one stays a zombie",
    "3g installs a SIGCHLD handler that reaps with os.waitpid(-1, os.WNOHANG) in a loop")
REAPS_ONE = Lesson(
    "reaps-one", "one wait() per SIGCHLD misses the children whose signals arrived together",
    "3g's handler calls os.waitpid(-1, os.WNOHANG) in a loop until it returns 0, not os.wait() once")
ONE_AT_A_TIME = Lesson(
    "one-at-a-time", "the server handles one client at a time: while it is busy with one (or its parent "
    "waits for the child it forked) it is not calling accept(), so the next client waits in the listen queue",
    "the text's 3b lesson, fixed from 3c on: the parent forks and goes straight back to accept(), and waits "
    "for its children only in the SIGCHLD handler, never right after fork()")
DIES = Lesson(
    "dies", "the server exited under the experiment's load",
    "3g closes the parent's copy of each client socket and reaps every child, so neither descriptors nor "
    "processes pile up; its accept() restarts after EINTR")
# The signal lessons of 3e and 3f, the WSGI server of part 2 and 3h, part 1's server, and prefork's master.
ACCEPT_EINTR = Lesson(
    "accept-eintr", "accept() failed with EINTR when the SIGCHLD handler ran, and the error ended the server",
    "the text's 3f restarts accept(): it catches IOError and, if code == errno.EINTR, continues the loop "
    "back to accept(); any other error is raised")
IGNORES_REQUEST = Lesson(
    "ignores-request", "the server answers garbage differently from a request: it parses what arrives",
    "the text's webserver1 completely ignores the request line: it reads up to 1024 bytes, prints them and "
    "sends the same fixed response whatever arrived")
NO_STATUS_LINE = Lesson(
    "no-status-line", "the response does not start with an HTTP status line, so curl rejects it",
    "the text's response consists of a status line, HTTP/1.1 200 OK, followed by a required empty line, and "
    "then the HTTP response body")
NEVER_CLOSES = Lesson(
    "never-closes", "the server never closes the client connection, so a client that reads to the end waits",
    "the text's webserver1 ends each request with client_connection.close(), which sends the FIN")
APP_FAILS = Lesson(
    "app-fails", "the application could not answer through the server: it failed, or the server died calling it",
    "the text's get_environ builds the environ the application needs from the parsed request line: the "
    "required WSGI variables (wsgi.version, wsgi.url_scheme, wsgi.input, wsgi.errors, wsgi.multithread, "
    "wsgi.multiprocess, wsgi.run_once) and CGI variables (REQUEST_METHOD, PATH_INFO, SERVER_NAME, SERVER_PORT)")
NOT_APPS_BODY = Lesson(
    "not-apps-body", "the response body is not what the application returned",
    "the text's server calls result = self.application(env, self.start_response) and sends each piece of the "
    "returned iterable, as it is, after the headers")
DROPS_HEADERS = Lesson(
    "drops-headers", "the application's headers (its Content-Type) do not reach the client",
    "the text's start_response stores the status and the app's response_headers (plus Date and Server), and "
    "finish_response writes 'HTTP/1.1 {status}', then each header as 'Name: value', an empty line, the body")
NO_WORKERS = Lesson(
    "no-workers", "the server has no worker process to kill: it forks none up front",
    "the prefork stage's master forks its workers once at start (2 by default), each accepting on the "
    "listening socket they share with the master")
NO_RESPAWN = Lesson(
    "no-respawn", "a worker that died is not replaced, so the server runs on with one worker fewer",
    "the prefork stage's master reaps with 3g's waitpid(-1, WNOHANG) loop in its own loop and forks a new "
    "worker for each one that died")
OTHERS_STALL = Lesson(
    "others-stall", "while one worker was gone or stuck, the clients of the others lost answers too",
    "in the prefork stage every worker accepts on the shared listening socket and serves its own kept "
    "connections from its own event loop, so one worker's trouble is only its own clients'")
NO_WORKER_TIMEOUT = Lesson(
    "no-worker-timeout", "nothing ends a worker stuck in the application: its request hangs and its clients wait",
    "the prefork stage's workers beat on a page shared with the master; the master SIGKILLs a worker silent "
    "past --worker-timeout and forks a replacement, as gunicorn's arbiter does with its heartbeat files")
QUERY_IN_PATH = Lesson(
    "query-in-path", "the query string stays in PATH_INFO and QUERY_STRING is not set, so the app never "
    "sees ?seconds=",
    "as PEP 3333 asks (the text's webserver2 skips it): split the request target at '?', PATH_INFO the path "
    "before it and QUERY_STRING what follows")
NO_BLANK_LINE = Lesson(
    "no-blank-line", "curl got a status line but no body: without the empty line after the status line (and "
    "headers), what follows reads as headers",
    "the text's response consists of a status line, HTTP/1.1 200 OK, followed by a required empty line, and "
    "then the HTTP response body")
# Part 3's process lessons read the other way round: a reader's file in 3b's, 3c's or 3d's place that
# already does what a later stage fixes hides the fault that stage is there to show.
WAITS = Lesson(
    "waits", "the server waits for its children, so the zombies (and the process slots they hold) that are "
    "3d's lesson never pile up",
    "3d never waits for its children: from 3e on the text installs a SIGCHLD handler that calls wait() "
    "(3g: waitpid(-1, WNOHANG) in a loop), which is the fix for what 3d shows")
NOT_KEPT_WAITING = Lesson(
    "not-kept-waiting", "the second client did not wait for the first one's sleep: the server serves clients "
    "together, or does not sleep after a response",
    "the text's 3b handles one client at a time and calls time.sleep(60) after sending each response, before "
    "its loop goes back to accept(), so the next client waits in the listen queue; 3c's fork per client is "
    "the fix")
SLEEPS_FIRST = Lesson(
    "sleeps-first", "the first client itself waited: the server sleeps (or is busy) before it answers",
    "the text's 3b sends its response first (client_connection.sendall) and only then calls time.sleep(60)")
NO_FORK = Lesson(
    "no-fork", "the server does not fork a child process per client (it serves them in one process, or "
    "threads, or a fixed pool), so what the text shows about children does not happen",
    "the text's 3c (and every stage after it) calls pid = os.fork() after each accept(): the child handles "
    "the request and exits, the parent goes straight back to accept()")
NO_ANSWER = Lesson(
    "no-answer", "the server did not answer curl",
    "the text's servers answer every request: accept(), then (from 3c on, in a forked child) recv the "
    "request, sendall a status line, an empty line and the body, and close the connection")
HANDLES_SIGTERM = Lesson(
    "handles-sigterm", "the server handles SIGTERM (or exits on it), which the text's files do not, so as "
    "a container's PID 1 it stops at once and docker stop's wait and SIGKILL do not show",
    "nothing to fix for a container (the lab's own server handles SIGTERM for that reason); the text's 3g "
    "installs only a SIGCHLD handler, so SIGTERM keeps its default action, which PID 1 does not get")
IGNORES_SIGTERM = Lesson(
    "ignores-sigterm", "SIGTERM did not end the server even under docker-init, which passes it on: it "
    "ignores or blocks the signal",
    "the text's 3g leaves SIGTERM's default action alone, so under an init (docker run --init, init: true) "
    "docker stop ends it at once (exit 143)")
