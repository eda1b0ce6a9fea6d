"""The diagnosis catalog (scenarios/catalog/diagnoses.py) on recorded observations: one test per rule,
each with the evidence a real check of a learner's server gathered, and one where no rule fits."""
import pytest

import recorded
from scenarios.catalog import fd_exhaustion
from scenarios.catalog.diagnoses import RULES
from scenarios.judging.diagnosis import diagnose
from scenarios.judging.evidence import Evidence, gather
from scenarios.executor.runner import Options, RunResult
from scenarios.judging.profile import NEVER_EXIT, ONE_PROCESS, PER_CONNECTION, THREADS

FORKING = dict(model=PER_CONNECTION, forks=True, answers_text_request=True, answers_crlf=True)
# name -> (the evidence, the rule it must choose, a sentence its diagnosis must hold)
RECORDED = {
    # C, SIGCHLD handler without SA_RESTART, perror("accept") then exit(1)
    "accept-eintr": (Evidence(scenario="client-hang", stage="3g", died=True, exit_code=1,
                              last_words="accept: Interrupted system call", sent=1, answered=1, **FORKING),
                     "3f's accept() dies of EINTR"),
    "fork-eagain-unexited": (Evidence(scenario="nproc-shared-uid", died=True, exit_code=1, model=NEVER_EXIT,
                                      forks=True, last_words="BlockingIOError: [Errno 11] Resource temporarily "
                                                             "unavailable"),
                             "ends with os._exit(0)"),
    "fork-eagain": (Evidence(scenario="nproc-exhaustion", died=True, exit_code=1, zombies_after=398,
                             last_words="BlockingIOError: [Errno 11] Resource temporarily unavailable", **FORKING),
                    "waitpid(-1, os.WNOHANG) in a loop"),
    "emfile-one-process": (Evidence(scenario="fd-exhaustion", died=True, exit_code=1, fds_peak=1024, nofile=1024,
                                    model=ONE_PROCESS, forks=False,
                                    last_words="OSError: [Errno 24] Too many open files"),
                           "spreads them over children"),
    "emfile": (Evidence(scenario="fd-exhaustion", died=True, exit_code=1, fds_peak=256, nofile=256,
                        last_words="OSError: [Errno 24] Too many open files", **FORKING),
               "closes it right after fork()"),
    "children-never-exit": (Evidence(scenario="client-hang", model=NEVER_EXIT, forks=True, processes_before=1,
                                     processes_after=19, answers_text_request=True, answers_crlf=True),
                            "the text's child ends with os._exit(0)"),
    "no-bare-lf": (Evidence(scenario="fd-exhaustion", model=PER_CONNECTION, forks=True, answers_text_request=False,
                            answers_crlf=True, sent=128, answered=0),
                   "RFC 9112 section 2.2"),
    "cannot-apply": (Evidence(scenario="waitpid-reaper", model=THREADS, forks=False, answers_text_request=True,
                              answers_crlf=True, judge_lessons=("reaps-one",)),
                     "none from the text"),
    "never-waits": (Evidence(scenario="waitpid-reaper", zombies_after=12, sigchld="default",
                             scenario_lessons=("reaps-one", "never-waits", "keeps-copy", "dies"), **FORKING),
                    "installs a SIGCHLD handler"),
    "reaps-one": (Evidence(scenario="waitpid-reaper", zombies_after=7, sigchld="caught",
                           scenario_lessons=("reaps-one", "never-waits", "keeps-copy", "dies"), **FORKING),
                  "not os.wait() once"),
    # The text's 3d in 3g's place under client-hang: a zombie is left too, but zombies are not its lesson.
    "keeps-copy": (Evidence(scenario="client-hang", judge_lessons=("keeps-copy",), scenario_lessons=("keeps-copy",),
                            zombies_after=1, sigchld="default", **FORKING),
                   "client_connection.close() in the parent"),
    "one-at-a-time": (Evidence(scenario="served-at-once", model=ONE_PROCESS, forks=False,
                               judge_lessons=("one-at-a-time",), answers_text_request=True, answers_crlf=True),
                      "goes straight back to accept()"),
    "waits": (Evidence(scenario="zombies", stage="3d", judge_lessons=("waits",), **FORKING),
              "3d never waits for its children"),
}


def test_every_rule_of_the_catalog_has_a_recorded_observation():
    assert set(RECORDED) == {rule.key for rule in RULES}


@pytest.mark.parametrize("key", list(RECORDED))
def test_a_rule_chooses_its_fix_from_its_evidence(key):
    evidence, fix = RECORDED[key]
    found = diagnose(evidence)
    assert found.rule == key
    first = found.findings[0]
    assert fix in first.fix
    assert first.lesson and first.seen
    (label, said), *rest = found.lines()
    assert label == "diagnosis" and first.lesson in said


def test_a_server_with_two_faults_gets_both_fixes_most_specific_first():
    # The text's 3d in 3g's place under waitpid-reaper: 128 zombies, no handler, the parent's copies kept.
    evidence = Evidence(scenario="waitpid-reaper", zombies_after=128, sigchld="default",
                        judge_lessons=("never-waits", "keeps-copy"), **FORKING)
    found = diagnose(evidence)
    assert [f.rule for f in found.findings] == ["never-waits", "keeps-copy"]


def test_no_rule_fits_says_what_was_seen_and_gives_no_fix():
    # A server that died of an exception no lesson of the text is about, answering all it was asked.
    evidence = Evidence(scenario="client-hang", died=True, exit_code=1, sent=1, answered=1, processes_peak=2,
                        processes_after=1, last_words="KeyError: 'Host'", **FORKING)
    found = diagnose(evidence)
    assert found.rule == "" and found.fixes == []
    (line,) = found.lines()
    assert line[1].startswith("no rule of the lab fits what was seen: your server exited (status 1) with the "
                              "last words \"KeyError: 'Host'\"; it answered 1 of 1 requests")
    assert line[1].endswith("no fix is given rather than a wrong one")


def test_a_non_forking_server_is_never_told_to_close_the_parents_copy():
    evidence = Evidence(scenario="client-hang", model=ONE_PROCESS, forks=False, judge_lessons=("keeps-copy",),
                        answers_text_request=True, answers_crlf=True)
    found = diagnose(evidence)
    assert [f.rule for f in found.findings] == ["cannot-apply"]
    assert not any("parent" in fix for fix in found.fixes)


def fd_exhaustion_result(obs):
    verdict = fd_exhaustion.SCENARIO.judge(obs)
    return RunResult(fd_exhaustion.SCENARIO, "fd-exhaustion-abc123", verdict, obs, started=1700000000.0,
                     duration_s=12.5, options=Options(scale=1.0))


def test_the_emfile_evidence_says_the_parent_held_the_descriptors_from_the_samples():
    # The recorded 3d under fd-exhaustion: its main process's count climbed to 250 of nofile 256, with
    # at most 2 children alive at any sample: the descriptors were the parent's.
    evidence = gather(fd_exhaustion_result(recorded.fd_exhaustion()), ("3d",))
    assert (evidence.fds_peak, evidence.nofile, evidence.children_peak) == (250, 256, 2)
    found = diagnose(evidence)
    assert found.rule == "emfile"
    assert found.findings[0].seen == ("accept() failed with EMFILE ('OSError: [Errno 24] Too many open files'): "
                                      "the descriptors were held by the parent, your server's main process: its "
                                      "own count climbed from 4 to 250 (the highest sampled; nofile 256) with at "
                                      "most 2 live children beside it")


def test_emfile_with_the_parent_far_below_nofile_names_the_children_and_gives_no_parent_fix():
    # The main process went from 4 to 6 of 256 while 40 children lived: its copies cannot be the cause.
    evidence = Evidence(scenario="fd-exhaustion", died=True, exit_code=1, fds_before=4, fds_peak=6, nofile=256,
                        children_peak=40,
                        last_words="OSError: [Errno 24] Too many open files", **FORKING)
    found = diagnose(evidence)
    assert "emfile" not in [f.rule for f in found.findings]
    assert "the descriptors were not the parent's: your server's main process held at most 6 of nofile 256 (it " \
           "began with 4), beside at most 40 live children, each with a nofile of its own" in found.seen


def test_the_kept_copies_say_which_process_held_them():
    evidence = Evidence(scenario="client-hang", judge_lessons=("keeps-copy",), scenario_lessons=("keeps-copy",),
                        fds_before=3, fds_peak=40, nofile=1024, children_peak=1, **FORKING)
    (finding,) = diagnose(evidence).findings
    assert finding.seen.endswith("; the descriptors were held by the parent, your server's main process: its own "
                                 "count climbed from 3 to 40 (the highest sampled; nofile 1024) with at most 1 "
                                 "live child beside it")
