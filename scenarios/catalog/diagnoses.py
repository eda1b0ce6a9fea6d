"""The diagnoses `lbaws check` chooses a fix by: each rule reads the evidence of one experiment
(scenarios.judging.evidence) and, when it fits, names the lesson of the text it belongs to and that lesson's
fix. Most specific first: the server's own last words, then its answers against the requests sent,
then its process counts, then what the experiment's judge named. The first rule that fits is shown;
where none does, the report says what was seen and gives no fix.
"""
from scenarios.catalog.lessons import KEEPS_COPY, NEVER_WAITS, ONE_AT_A_TIME, REAPS_ONE, WAITS
from scenarios.judging.evidence import ABOUT_CHILDREN, Rule

EINTR_WORDS = ("interrupted system call", "eintr", "interruptederror")
EAGAIN_WORDS = ("resource temporarily unavailable", "eagain", "blockingioerror")
EMFILE_WORDS = ("too many open files", "emfile")


def _said(e, words) -> bool:
    return any(word in e.words for word in words)


def _eintr(e) -> str:
    if e.died and _said(e, EINTR_WORDS):
        return f"your server died of EINTR: its last words were {e.last_words!r}"
    return ""


def _eagain_unexited(e) -> str:
    if e.died and _said(e, EAGAIN_WORDS) and e.model == "a child per connection, children that never exit":
        return (f"fork() failed with EAGAIN ({e.last_words!r}): the processes that filled ulimit -u were "
                f"children that never exit, not zombies")
    return ""


def _eagain(e) -> str:
    if e.died and _said(e, EAGAIN_WORDS):
        return f"fork() failed with EAGAIN ({e.last_words!r}): ulimit -u was full of its processes"
    return ""


def _emfile_one_process(e) -> str:
    if e.died and _said(e, EMFILE_WORDS) and e.forks is False:
        held = f"{e.fds_peak} descriptors" if e.fds_peak else "its descriptors"
        return (f"your server ran out of descriptors ({e.last_words!r}) holding {held} in its one process "
                f"against nofile {e.nofile}: it serves every connection in that process ({e.model}), so all "
                f"of them count against that one limit")
    return ""


def _emfile_forking(e) -> str:
    # Only where the parent held them (or no count was read): 3d's fix is the parent's copies.
    if e.died and _said(e, EMFILE_WORDS) and not e.held_elsewhere:
        held = e.held_by(ran_out=True) or "which process held the descriptors was not read"
        return f"accept() failed with EMFILE ({e.last_words!r}): {held}"
    return ""


def _never_exit(e) -> str:
    grew = e.grew
    if e.model == "a child per connection, children that never exit" or (grew is not None and grew >= 5 and e.forks):
        tail = (f"after this experiment your server's container held {e.processes_after} processes "
                f"(it began with {e.processes_before})" if e.processes_after is not None
                else "its processes grew with each connection")
        return f"{tail}; its children fall back into the accept loop instead of exiting"
    return ""


def _no_bare_lf(e) -> str:
    if e.answers_text_request is False and e.answers_crlf:
        counted = (f"; here it answered {e.answered} of {e.sent} requests" if e.sent is not None
                   and e.answered is not None else "")
        return ("your server answers a CRLF request but never the text's own, whose lines end with a bare LF "
                f"(client3.py sends b'GET /hello HTTP/1.1\\nHost: localhost:8888\\n\\n'){counted}")
    return ""


def _cannot_apply(e) -> str:
    about = set(e.judge_lessons or e.scenario_lessons) & ABOUT_CHILDREN
    if e.forks is False and about and not e.died:
        return (f"this experiment's lesson is about children ({', '.join(sorted(about))}), and your server forks "
                f"none: {e.model}")
    return ""


def _about_zombies(e) -> bool:
    """Zombies left are this experiment's lesson, not something seen in passing."""
    return bool({"never-waits", "reaps-one"} & set(e.scenario_lessons + e.judge_lessons))


def _zombies_no_handler(e) -> str:
    if e.forks and _about_zombies(e) and (e.zombies_after or "never-waits" in e.judge_lessons) and e.sigchld == "default":
        return f"{e.zombies_after or 'its'} zombies were left and SIGCHLD has its default action: nothing waits"
    return ""


def _zombies_one_wait(e) -> str:
    if e.forks and _about_zombies(e) and (e.zombies_after or "reaps-one" in e.judge_lessons) and e.sigchld == "caught":
        return (f"{e.zombies_after or 'some'} zombies were left though a SIGCHLD handler runs: it reaps one "
                f"child per signal, and signals that arrive together coalesce")
    return ""


def _keeps_copy(e) -> str:
    if e.forks and "keeps-copy" in e.judge_lessons:
        held = e.held_by()
        return ("the client connection stayed open in the parent after the child had answered"
                + (f"; {held}" if held else ""))
    return ""


def _one_at_a_time(e) -> str:
    if "one-at-a-time" in e.judge_lessons:
        return f"the next client waited while one was served ({e.model or 'its model not seen'})"
    return ""


def _waits(e) -> str:
    if "waits" in e.judge_lessons and e.forks:
        return "its children were reaped, so the zombies the text's stage piles up never appeared"
    return ""


RULES = (
    Rule("accept-eintr", "3e/3f: a signal handler interrupts accept()", _eintr,
         "3f's accept() dies of EINTR when SIGCHLD's handler runs; the text's 3f and 3g retry: they catch the "
         "error and, if code == errno.EINTR, continue back to accept() (in C: loop while accept() returns -1 "
         "with errno EINTR, or install the handler with SA_RESTART)"),
    Rule("fork-eagain-unexited", "3c: the child's work ends the child", _eagain_unexited,
         "the text's child ends with os._exit(0) once it has handled its request (in C: _exit(0)), so "
         "processes never pile up beyond the connections being served"),
    Rule("fork-eagain", "3d: zombies fill ulimit -u until fork() fails", _eagain,
         "3g reaps every child with os.waitpid(-1, os.WNOHANG) in a loop in its SIGCHLD handler, so no zombie "
         "holds a process slot"),
    Rule("emfile-one-process", "3d: descriptors run out at nofile", _emfile_one_process,
         "not the text's fix (3d's leak is the parent's copies, which your model has none of): a server that "
         "holds every connection in one process needs nofile above the connections it holds at once, or to "
         "stop accepting below it; 3g spreads them over children, one each"),
    Rule("emfile", "3d: the parent's copies fill nofile", _emfile_forking, KEEPS_COPY.fix),
    Rule("children-never-exit", "3c: the child's work ends the child", _never_exit,
         "the text's child ends with os._exit(0) after handle_request (in C: _exit(0)); 3g holds 1 process "
         "plus the children still serving"),
    Rule("no-bare-lf", "the text's client3.py and its requests end lines with a bare LF", _no_bare_lf,
         "RFC 9112 section 2.2 lets a server accept a bare LF as a line terminator: find the end of the head "
         "at b'\\n\\n' as well as b'\\r\\n\\r\\n' (or strip each line's '\\r'), or read as the text does, "
         "one recv() and answer"),
    Rule("cannot-apply", "a lesson about children", _cannot_apply,
         "none from the text: its fix is for children, which your server does not have "
         "(docs/checking-process-models.md)"),
    Rule("never-waits", "3d and 3e: zombies", _zombies_no_handler, NEVER_WAITS.fix),
    Rule("reaps-one", "3e and 3f: signals coalesce", _zombies_one_wait, REAPS_ONE.fix),
    Rule("keeps-copy", "3d: the parent's copy of the client socket", _keeps_copy, KEEPS_COPY.fix),
    Rule("one-at-a-time", "3b: one client at a time", _one_at_a_time, ONE_AT_A_TIME.fix),
    Rule("waits", "3d: zombies are the lesson", _waits, WAITS.fix),
)
