"""The learner-style servers of tests/servers/learners, c and perl, each checked by `lbaws check` with the
one experiment that proves its point (client-hang: one curl, no flood) beside the profile every check
measures first. Compiled and run here: the C files with the host's `gcc -static`, the Perl file with the
image's own perl (perl-base is part of every Debian), both through `--command`."""
from checking import SERVERS, prepared
import languages

LEARNERS = SERVERS / "learners"
ONE = ("--scenario", "client-hang")
# name -> the `lbaws check` arguments after the file (a path under tests/servers).
PYTHON = {
    "never-exit": ("learners/never_exit_webserver3g.py", *ONE),
    "crlf-only": ("learners/crlf_only_webserver3g.py", *ONE),
    "threads": ("learners/threads_webserver3g.py", *ONE),
    "asyncio": ("learners/asyncio_webserver3g.py", *ONE),
    "pool": ("learners/prefork_pool_webserver3g.py", *ONE),
    "sig-ign": ("learners/sig_ign_webserver3g.py", *ONE),
    "double-fork": ("learners/double_fork_webserver3g.py", *ONE),
}


def others(tmp_path_factory):
    """{name: languages.Run} of the C and Perl learners, not yet run."""
    c_eintr = languages.compile_c("eintr_webserver3g", tmp_path_factory.mktemp("c") / "c-eintr")
    c_never = languages.compile_c("never_exit_webserver3g", tmp_path_factory.mktemp("c") / "c-never")
    perl = SERVERS / "perl"
    args = {
        "c-eintr": ["--stage", "3g", "--command", "./eintr_webserver3g", str(c_eintr), *ONE],
        "c-never-exit": ["--stage", "3g", "--command", "./never_exit_webserver3g", str(c_never), *ONE],
        "perl-never-exit": ["--stage", "3g", "--command", "perl never_exit_webserver3g.pl", str(perl), *ONE],
    }
    return {name: languages.Run(name, each, tmp_path_factory.mktemp(name)) for name, each in args.items()}


def every_one(tmp_path_factory):
    return {**prepared(PYTHON, tmp_path_factory), **others(tmp_path_factory)}
