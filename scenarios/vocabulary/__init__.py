"""What experiments are written in: a scenario's spec, the typed results of its actions, the record of a
run and its process tree, and the verdict it comes to."""
