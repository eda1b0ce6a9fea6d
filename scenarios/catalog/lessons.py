"""The text's lessons as data: each fault a reader's server can show, and what the text changes to fix it.

Scenarios list the ones their judge may name (Scenario.lessons); a judgment that differs names them by
key, and `lbaws check` prints the fault and the fix beside what the server did.
"""
from scenarios.spec import Lesson

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
