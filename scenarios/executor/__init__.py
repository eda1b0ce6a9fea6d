"""What runs experiments: the session and its runner, the containers, the probes and the sampler, the
actions against a running server, and the plans that put a reader's file in a trial."""
