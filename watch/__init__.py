"""The live page of the lab: a WSGI app, served by the lab's own pre-fork server (`lbaws watch`), that
shows the runs under a reports folder from their samples.ndjson and report.json alone."""
