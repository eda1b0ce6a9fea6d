"""What judges and diagnoses share beyond an experiment's own judge: readings put into words, the count at
death, the whole process tree, a reader's server profiled, and the diagnosis with the text's fix."""
